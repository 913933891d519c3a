# One image for the four services; docker-compose.yml picks the module to run.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY tools ./tools
RUN pip install --no-cache-dir .
USER nobody
CMD ["python", "-m", "services.inventory"]
