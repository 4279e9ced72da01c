"""The application: the engine and its leases, delivery, the scheduler, replay, import, the LLM port, the audit,
and the wiring that plugs storage and the LLM into the rules. Below the adapters and the command line."""
