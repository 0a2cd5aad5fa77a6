"""Tests of each panel, mirroring studio/ui/panels."""
