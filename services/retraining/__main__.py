"""`python -m services.retraining` runs the service."""

from services.retraining.settings import RetrainingSettings
from shared.serve import serve

if __name__ == "__main__":
    serve("services.retraining.app:create_app", RetrainingSettings())
