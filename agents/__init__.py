"""After the call: summaries, leads, events and follow-up emails (CrewAI or the offline extractor), and
their delivery to customers' systems by Standard Webhooks."""
