# One image for web, workers and beat. CPU torch by default; the GPU worker
# image adds vllm's CUDA build with --build-arg EXTRAS=gpu.
FROM python:3.11-slim-bookworm

ARG EXTRAS=""
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=coding_app.settings \
    DATA_DIR=/data \
    HF_HUB_OFFLINE=1

WORKDIR /app
RUN useradd --create-home --uid 1000 desk && mkdir -p /data && chown desk /data

COPY pyproject.toml README.md ./
COPY coding_app coding_app
COPY worker worker
COPY review review
COPY training training
RUN if [ -z "$EXTRAS" ]; then pip install --no-cache-dir "torch==2.13.0" --index-url "$TORCH_INDEX"; fi \
 && pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

COPY manage.py ./
COPY templates templates
COPY static static
# collectstatic needs settings but no services: it only reads files.
RUN DEBUG=true python manage.py collectstatic --noinput -v 0

USER desk
EXPOSE 8000
CMD ["gunicorn", "coding_app.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
