"""`python -m services.actions` runs the service."""

from services.actions.settings import ActionsSettings
from shared.service.serve import serve

if __name__ == "__main__":
    serve("services.actions.bootstrap:create_app", ActionsSettings())
