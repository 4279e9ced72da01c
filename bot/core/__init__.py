"""The bottom layer: events, actions, the clock, chat markup, the transcript format, and the ports adapters
implement. It imports nothing else of Steward's."""
