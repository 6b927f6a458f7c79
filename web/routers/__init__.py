"""The review page's routers: auth (login/logout), queue, documents, audit. Each exposes `router`."""
