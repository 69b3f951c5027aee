#!/bin/sh
# Creates the store's search attributes (workflows/policies.py: SEARCH_ATTRIBUTES) in its Temporal
# namespace: the one-shot `temporal-search-attributes` service of docker-compose.yml, run with the
# temporalio/admin-tools image once Temporal is healthy. An attribute already there is left as it
# is, so every `docker compose up` may run it again. It ends once the namespace lists every one
# with its type: the store starts only when its workflows can set them.
#
#   TEMPORAL_ADDRESS    the frontend, host:port
#   TEMPORAL_NAMESPACE  the store's namespace
#   SEARCH_ATTRIBUTES   Name=Type pairs separated by spaces, e.g. "CustomerId=Keyword OrderId=Keyword"
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
ATTEMPTS=${ATTEMPTS:-60}  # two seconds apart: a new namespace takes a few seconds to be listed

# Is attribute $1 listed with type $2? (The list is a table: name, then type.)
listed() {
    temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null |
        awk -v name="$1" -v type="$2" \
            'tolower($1) == tolower(name) && tolower($2) == tolower(type) { found = 1 }
             END { exit !found }'
}

for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%=*}
    type=${pair#*=}
    attempt=1
    until listed "$name" "$type"; do
        if [ "$attempt" -ge "$ATTEMPTS" ]; then
            echo "search attribute $name ($type) still not listed after $ATTEMPTS attempts" >&2
            exit 1
        fi
        # Fails while the namespace is not yet known, or when a twin run created it first.
        temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
            --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type" || true
        attempt=$((attempt + 1))
        sleep 2
    done
    echo "search attribute $name ($type) registered in $TEMPORAL_NAMESPACE"
done
