{{/* Names and labels shared by every template. */}}
{{- define "heart-display.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Every object's name: fullnameOverride, else the chart's name (whatever the release is
called, so the documented `svc/heart-display` exists after `helm install heart-demo …`). */}}
{{- define "heart-display.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The love level: the top-level value, or the older nested `config.loveLevel` when set. */}}
{{- define "heart-display.loveLevel" -}}
{{- if kindIs "invalid" .Values.config.loveLevel -}}
{{- .Values.loveLevel -}}
{{- else -}}
{{- .Values.config.loveLevel -}}
{{- end -}}
{{- end -}}

{{- define "heart-display.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heart-display.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "heart-display.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "heart-display.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: web
app.kubernetes.io/part-of: heart-display
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Whether pods run on SpinKube's containerd-shim-spin. */}}
{{- define "heart-display.spin" -}}
{{- if eq .Values.runtime.className "wasmtime-spin-v2" }}true{{ end -}}
{{- end -}}

{{- define "heart-display.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if include "heart-display.spin" . -}}
{{- printf "%s:%s-spin" .Values.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The port the app listens on in the pod: Spin always serves on 80. */}}
{{- define "heart-display.port" -}}
{{- if include "heart-display.spin" . }}80{{ else }}{{ .Values.containerPort }}{{ end -}}
{{- end -}}

{{/* Every container: non-root, read-only root, no privilege escalation, no capabilities. */}}
{{- define "heart-display.containerSecurity" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The workload's request rate, per second, over its pods (what the request-rate autoscalers
divide by their per-pod target): the series' own namespace, and the scrape job the
ServiceMonitor names after the Service. */}}
{{- define "heart-display.requestRateQuery" -}}
sum(rate(heart_http_requests_total{namespace="{{ .Release.Namespace }}",job="{{ include "heart-display.fullname" . }}"}[1m]))
{{- end -}}

{{/*
The TCP port of an OTLP/HTTP endpoint URL (the context): the one it names, else OTLP/HTTP's 4318.
*/}}
{{- define "heart-display.otlpPort" -}}
{{- $host := (urlParse .).host -}}
{{- if regexMatch ":[0-9]+$" $host -}}
{{- regexFind "[0-9]+$" $host -}}
{{- else -}}
4318
{{- end -}}
{{- end }}

{{/* The node installer's objects: the chart's labels, component node-installer. */}}
{{- define "heart-display.installerSelectorLabels" -}}
{{ include "heart-display.selectorLabels" . }}
app.kubernetes.io/component: node-installer
{{- end -}}

{{- define "heart-display.installerLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "heart-display.installerSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: heart-display
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The node installer's name (its cluster-scoped RBAC adds the namespace). */}}
{{- define "heart-display.installerName" -}}
{{- printf "%s-node-installer" (include "heart-display.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
