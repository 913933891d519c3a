"""`python -m services.trainer` runs the trainer (its operations endpoints on TRAINER_HTTP__PORT, 8005)."""

from services.trainer.settings import TrainerSettings
from shared.service.serve import serve

if __name__ == "__main__":
    serve("services.trainer.bootstrap:create_app", TrainerSettings())
