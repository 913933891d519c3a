"""`python -m services.inventory` runs the service."""

from services.inventory.settings import InventorySettings
from shared.service.serve import serve

if __name__ == "__main__":
    serve("services.inventory.bootstrap:create_app", InventorySettings())
