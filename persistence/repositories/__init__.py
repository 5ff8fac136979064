"""One module per resource. Every read, update or delete of owned data takes ``owner_id`` and filters
by it: another owner's row looks exactly like a missing one (``None`` / ``False`` / empty list).

Functions named ``*_for_worker`` (or documented as internal) serve the background services, which act
on a session id taken from the bus, not on a person's request; the gateway never calls them.
"""
