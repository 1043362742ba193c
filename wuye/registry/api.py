"""REST endpoints of the registry under /api/v1/ (placeholder until the API work lands)."""

urlpatterns: list = []
