"""`python -m services.inventory` runs the service."""

from services.inventory.settings import InventorySettings
from shared.serve import serve

if __name__ == "__main__":
    serve("services.inventory.app:create_app", InventorySettings())
