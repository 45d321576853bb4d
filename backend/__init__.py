"""School-platform backend: the system of record the assistant acts on."""
