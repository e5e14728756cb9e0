#!/bin/bash
# The compose stack's sample-feedback producer: sends data/demo/feedback.jsonl
# (mounted at /data/feedback.jsonl) to the four feedback topics, each line to
# the topic of its `kind`. The few deliberately broken lines that name no
# known kind go to feedback.reviews, where they become dead letters.
set -euo pipefail
file=${SAMPLE_FILE:-/data/feedback.jsonl}
brokers=${KAFKA_BROKERS:-kafka:9092}

route() {   # route KIND TOPIC
    local lines
    lines=$(grep -F "\"kind\":\"$1\"" "$file" || true)
    if [ -n "$lines" ]; then
        printf '%s\n' "$lines" | tongdian produce --brokers "$brokers" --topic "$2" -
    fi
}

route review feedback.reviews
route ticket feedback.tickets
route survey feedback.surveys
route social feedback.social

other=$(grep -v -E '"kind":"(review|ticket|survey|social)"' "$file" || true)
if [ -n "$other" ]; then
    printf '%s\n' "$other" | tongdian produce --brokers "$brokers" --topic feedback.reviews -
fi
echo "produced $(grep -c . "$file") sample messages to $brokers"
