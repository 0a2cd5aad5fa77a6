from studio.launcher import main

if __name__ == "__main__":  # a training child process (spawn) imports this module again; it must not launch
    raise SystemExit(main())
