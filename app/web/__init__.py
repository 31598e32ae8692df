"""HTTP adapters besides the webhook: admin API and the local simulator page."""
