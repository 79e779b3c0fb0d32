{{/* The base of every object name: saguard when the release is called saguard. */}}
{{- define "saguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "saguard" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "saguard.name" -}}
{{- default "saguard" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Pod selector: never changes between upgrades (a Deployment's selector is immutable). */}}
{{- define "saguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "saguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "saguard.labels" -}}
{{ include "saguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "saguard.serviceAccountName" -}}
{{- include "saguard.fullname" . -}}
{{- end -}}

{{/* The Secret that holds the audit webhook's client CA. */}}
{{- define "saguard.auditClientCASecret" -}}
{{- default .Values.auditWebhook.tlsSecretName .Values.auditWebhook.clientCASecretName -}}
{{- end -}}
