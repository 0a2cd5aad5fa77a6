"""The Hugging Face Hub as a person uses it: reaching it, searching it, reading a model's page, downloading into the
shared cache with progress, pause and resume, and the models already on this machine."""
