"""SQL the API needs that the persistence repositories do not offer, one module per resource. Every
function that reads a person's data takes ``owner_id`` and filters by it."""
