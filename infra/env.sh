# Sourced by infra/services.sh and infra/run.sh (and `make demo`): what every process of one local stack
# must agree on, derived from the few variables the infra scripts read, so that `LIFECYCLE_KAFKA_PORT=19092
# LIFECYCLE_MONGO_PORT=27117 LIFECYCLE_HTTP_PORT_BASE=18000 make run` is a second stack beside the first.
# Anything already set wins.

if [[ -n "${LIFECYCLE_KAFKA_PORT:-}" ]]; then
  export LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS="${LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS:-127.0.0.1:$LIFECYCLE_KAFKA_PORT}"
fi
if [[ -n "${LIFECYCLE_MONGO_PORT:-}" ]]; then
  export LIFECYCLE_MONGO__URL="${LIFECYCLE_MONGO__URL:-mongodb://127.0.0.1:$LIFECYCLE_MONGO_PORT}"
fi

# A stack of its own keeps the trainer's model files with its other data.
if [[ -n "${LIFECYCLE_HOME:-}" ]]; then
  export TRAINER_TRAINING__MODEL_DIR="${TRAINER_TRAINING__MODEL_DIR:-$LIFECYCLE_HOME/trainer/models}"
fi

# LIFECYCLE_HTTP_PORT_BASE=N puts the services on N+1..N+5 (the order of the defaults 8001-8005), and tells
# the CLI and the demo where they are.
if [[ -n "${LIFECYCLE_HTTP_PORT_BASE:-}" ]]; then
  _offset=1
  for _svc in inventory actions replacement retraining trainer; do
    _upper="${_svc^^}"
    export "${_upper}_HTTP__PORT=$((LIFECYCLE_HTTP_PORT_BASE + _offset))"
    [[ "$_svc" == trainer ]] || export "LIFECYCLE_${_upper}_URL=http://127.0.0.1:$((LIFECYCLE_HTTP_PORT_BASE + _offset))"
    _offset=$((_offset + 1))
  done
  unset _offset _svc _upper
fi

# Bearer tokens for local development only: the admin the CLI uses, and the demo's two people (alice registers
# and owns deployments, bob is the second OWNER who approves her change request). Set LIFECYCLE_API_TOKENS for
# anything else.
_dev_tokens='{"dev-admin-token": {"user": "admin", "admin": true}, "dev-alice-token": {"user": "alice"}, "dev-bob-token": {"user": "bob"}}'
export LIFECYCLE_API_TOKENS="${LIFECYCLE_API_TOKENS:-$_dev_tokens}"
unset _dev_tokens
