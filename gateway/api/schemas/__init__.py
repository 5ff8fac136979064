"""What goes in and out of the API, one module per resource: ``XCreate`` / ``XUpdate`` come in,
``XPublic`` goes out; neither is a database row."""
