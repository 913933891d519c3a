"""`python -m services.retraining` runs the service."""

from services.retraining.settings import RetrainingSettings
from shared.service.serve import serve

if __name__ == "__main__":
    serve("services.retraining.bootstrap:create_app", RetrainingSettings())
