{{/* Names and labels shared by every object of the release. */}}
{{- define "webscheduler.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webscheduler.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "webscheduler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webscheduler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "webscheduler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "webscheduler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "webscheduler.redisName" -}}
{{- printf "%s-redis" (include "webscheduler.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webscheduler.settingsConfigMap" -}}
{{- .Values.existingSettingsConfigMap | default (printf "%s-settings" (include "webscheduler.fullname" .)) -}}
{{- end -}}
