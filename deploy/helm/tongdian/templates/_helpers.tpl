{{/* Names and labels. */}}
{{- define "tongdian.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tongdian.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tongdian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tongdian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tongdian.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tongdian.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "tongdian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tongdian.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* A TOML basic string: JSON string escapes are valid TOML escapes. */}}
{{- define "tongdian.toml" -}}
{{- . | toString | toJson }}
{{- end }}

{{/*
Refuses values that would deploy a broken or unsafe group. Included by the
Deployment, so `helm template` and `helm install` fail with the message.
*/}}
{{- define "tongdian.validate" -}}
{{- $v := .Values }}
{{- $partitions := int $v.kafka.partitions }}
{{- if lt $partitions 1 }}
{{- fail "kafka.partitions must be at least 1: the partition count of each feedback topic" }}
{{- end }}
{{- if not $v.kafka.allowReplicasAbovePartitions }}
{{- if and (not $v.keda.enabled) (gt (int $v.replicaCount) $partitions) }}
{{- fail (printf "replicaCount (%d) is above kafka.partitions (%d): the extra workers would hold no partition and never be ready. Add partitions, lower replicaCount, or set kafka.allowReplicasAbovePartitions=true" (int $v.replicaCount) $partitions) }}
{{- end }}
{{- if and $v.keda.enabled (gt (int $v.keda.maxReplicaCount) $partitions) }}
{{- fail (printf "keda.maxReplicaCount (%d) is above kafka.partitions (%d): set it to at most the partition count, or set kafka.allowReplicasAbovePartitions=true" (int $v.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- end }}
{{- if and $v.keda.enabled (gt (int $v.keda.minReplicaCount) (int $v.keda.maxReplicaCount)) }}
{{- fail "keda.minReplicaCount is above keda.maxReplicaCount" }}
{{- end }}
{{- if and $v.objectStore.allowUnsafeRename (or $v.keda.enabled (gt (int $v.replicaCount) 1)) }}
{{- fail "objectStore.allowUnsafeRename is safe with one writer per table only: use replicaCount=1 without KEDA, or rely on the store's conditional writes" }}
{{- end }}
{{- if not (has $v.kafka.securityProtocol (list "plaintext" "ssl" "sasl_plaintext" "sasl_ssl")) }}
{{- fail "kafka.securityProtocol must be plaintext, ssl, sasl_plaintext or sasl_ssl" }}
{{- end }}
{{- if include "tongdian.sasl" . }}
{{- if not $v.kafka.sasl.existingSecret }}
{{- fail (printf "kafka.securityProtocol=%s needs kafka.sasl.existingSecret: the Secret with the SASL username and password" $v.kafka.securityProtocol) }}
{{- end }}
{{- if not (has $v.kafka.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) }}
{{- fail "kafka.sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" }}
{{- end }}
{{- end }}
{{- $tls := has $v.kafka.securityProtocol (list "ssl" "sasl_ssl") }}
{{- if and $v.kafka.tls.ca.existingSecret $v.kafka.tls.ca.existingConfigMap }}
{{- fail "kafka.tls.ca: set existingSecret or existingConfigMap, not both" }}
{{- end }}
{{- if and (not $tls) (or (include "tongdian.caSource" .) $v.kafka.tls.clientCert.existingSecret) }}
{{- fail (printf "kafka.tls is set but kafka.securityProtocol=%s uses no TLS (ssl or sasl_ssl)" $v.kafka.securityProtocol) }}
{{- end }}
{{- if and $v.keda.enabled $tls $v.kafka.tls.ca.existingConfigMap }}
{{- fail "KEDA reads the Kafka CA from a Secret only: use kafka.tls.ca.existingSecret with keda.enabled" }}
{{- end }}
{{- range $k := list "sasl.username" "sasl.password" "ssl.key.password" "ssl.key.pem" }}
{{- if hasKey $v.kafka.librdkafka $k }}
{{- fail (printf "kafka.librdkafka.%s would land in the ConfigMap: use kafka.sasl.existingSecret / kafka.tls" $k) }}
{{- end }}
{{- end }}
{{- range $k := list "security.protocol" "sasl.mechanism" "sasl.mechanisms" "ssl.ca.location" "ssl.certificate.location" "ssl.key.location" }}
{{- if hasKey $v.kafka.librdkafka $k }}
{{- fail (printf "kafka.librdkafka.%s is set by the chart: use kafka.securityProtocol, kafka.sasl, kafka.tls" $k) }}
{{- end }}
{{- end }}
{{- if not $v.sink.output }}
{{- fail "sink.output is required: the table root, e.g. s3://bucket/prefix" }}
{{- end }}
{{- if not (has $v.kafka.startFrom (list "earliest" "latest")) }}
{{- fail "kafka.startFrom must be earliest or latest" }}
{{- end }}
{{- if not (has $v.log.format (list "json" "text")) }}
{{- fail "log.format must be json or text" }}
{{- end }}
{{- end }}

{{/* Non-empty when the protocol authenticates with SASL. */}}
{{- define "tongdian.sasl" -}}
{{- if has .Values.kafka.securityProtocol (list "sasl_plaintext" "sasl_ssl") }}true{{ end }}
{{- end }}

{{/* "secret" or "configMap" when a CA bundle is mounted, else empty. */}}
{{- define "tongdian.caSource" -}}
{{- if .Values.kafka.tls.ca.existingSecret }}secret{{ else if .Values.kafka.tls.ca.existingConfigMap }}configMap{{ end }}
{{- end }}

{{/* Where the Secrets and the CA are mounted in the worker. */}}
{{- define "tongdian.saslDir" -}}/var/run/secrets/tongdian/kafka-sasl{{- end }}
{{- define "tongdian.caDir" -}}/etc/tongdian-kafka-ca{{- end }}
{{- define "tongdian.clientCertDir" -}}/var/run/secrets/tongdian/kafka-tls{{- end }}
