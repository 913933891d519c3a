"""`python -m services.replacement` runs the service."""

from services.replacement.settings import ReplacementSettings
from shared.service.serve import serve

if __name__ == "__main__":
    serve("services.replacement.bootstrap:create_app", ReplacementSettings())
