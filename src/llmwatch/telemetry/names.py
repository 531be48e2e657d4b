"""Every attribute, metric and value name llmwatch emits, in one place.

GenAI names follow the OpenTelemetry GenAI semantic conventions (the ``semantic-conventions-genai`` repository,
v1.41-era names plus the newer ``cache_write``/``reasoning.level`` names; see docs/semantic-conventions.md).
We keep our own constants because the ``gen_ai`` constants in ``opentelemetry-semantic-conventions`` are
deprecated and lack the newest names. ``llmwatch.*`` names are ours.
"""

from __future__ import annotations

from typing import Final

# Instrumentation scope
SCOPE_NAME: Final = "llmwatch"
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"

# --- GenAI span attributes -------------------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID: Final = "gen_ai.request.previous_response.id"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"

# OpenAI refinements
OPENAI_API_TYPE: Final = "openai.api.type"
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"

# General conventions
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
ERROR_TYPE_OTHER: Final = "_OTHER"
CODE_FUNCTION_NAME: Final = "code.function.name"

# --- llmwatch attributes ---------------------------------------------------------------------------------
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"
LLMWATCH_ATTR_PREFIX: Final = "llmwatch.attr."
LLMWATCH_FEATURE: Final = "llmwatch.attr.feature"
LLMWATCH_QUALITY_FLAGS: Final = "llmwatch.quality.flags"
LLMWATCH_QUALITY_SCORE: Final = "llmwatch.quality.score"
LLMWATCH_SAFETY_FLAGS: Final = "llmwatch.safety.flags"
LLMWATCH_SAFETY_INPUT_FLAGS: Final = "llmwatch.safety.input_flags"
LLMWATCH_SAFETY_OUTPUT_FLAGS: Final = "llmwatch.safety.output_flags"
LLMWATCH_FLAG: Final = "llmwatch.flag"
LLMWATCH_PROMPT_NAME: Final = "llmwatch.prompt.name"
LLMWATCH_PROMPT_VERSION: Final = "llmwatch.prompt.version"
LLMWATCH_SPAN_KIND: Final = "llmwatch.span.kind"
LLMWATCH_FUNCTION_ARGUMENTS: Final = "llmwatch.function.arguments"
LLMWATCH_FUNCTION_RESULT: Final = "llmwatch.function.result"
LLMWATCH_ROLLUP_CALLS: Final = "llmwatch.rollup.calls"
LLMWATCH_ROLLUP_FAILED_CALLS: Final = "llmwatch.rollup.failed_calls"
LLMWATCH_ROLLUP_INPUT_TOKENS: Final = "llmwatch.rollup.input_tokens"
LLMWATCH_ROLLUP_OUTPUT_TOKENS: Final = "llmwatch.rollup.output_tokens"
LLMWATCH_ROLLUP_COST_USD: Final = "llmwatch.rollup.cost_usd"
LLMWATCH_ROLLUP_UNPRICED_CALLS: Final = "llmwatch.rollup.unpriced_calls"
LLMWATCH_ROLLUP_ESTIMATED: Final = "llmwatch.rollup.estimated"
LLMWATCH_ROLLUP_QUALITY_FLAGS: Final = "llmwatch.rollup.quality_flags"
LLMWATCH_ROLLUP_QUALITY_SCORE: Final = "llmwatch.rollup.quality_score"
LLMWATCH_ROLLUP_SAFETY_FLAGS: Final = "llmwatch.rollup.safety_flags"
LLMWATCH_USAGE_ESTIMATED: Final = "llmwatch.usage.estimated"
LLMWATCH_LATENCY_TIME_TO_FIRST_TOKEN: Final = "llmwatch.latency.time_to_first_token"
LLMWATCH_LATENCY_OUTPUT_TOKENS_PER_SECOND: Final = "llmwatch.latency.output_tokens_per_second"
LLMWATCH_CONTENT_TRUNCATED: Final = "llmwatch.content.truncated"
LLMWATCH_COST_INPUT_USD: Final = "llmwatch.cost.input_usd"
LLMWATCH_COST_OUTPUT_USD: Final = "llmwatch.cost.output_usd"
LLMWATCH_COST_TOTAL_USD: Final = "llmwatch.cost.total_usd"
LLMWATCH_COST_SOURCE: Final = "llmwatch.cost.source"
LLMWATCH_COST_ESTIMATED: Final = "llmwatch.cost.estimated"

# --- values ------------------------------------------------------------------------------------------------
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_GENERATE_CONTENT: Final = "generate_content"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"

PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"

OPENAI_API_CHAT_COMPLETIONS: Final = "chat_completions"
OPENAI_API_RESPONSES: Final = "responses"

FINISH_REASON_ERROR: Final = "error"

# --- metrics ----------------------------------------------------------------------------------------------
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
# v1.41 set (default)
M_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
M_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
M_OPERATION_TTFC: Final = "gen_ai.client.operation.time_to_first_chunk"
# newest gen_ai.client.inference.* set (metrics_semconv="latest")
M_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
M_INFERENCE_TTFC: Final = "gen_ai.client.inference.time_to_first_chunk"
M_USAGE_INPUT: Final = "gen_ai.client.inference.usage.input_tokens"
M_USAGE_OUTPUT: Final = "gen_ai.client.inference.usage.output_tokens"
M_USAGE_CACHE_READ: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
M_USAGE_CACHE_WRITE: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"
M_USAGE_REASONING: Final = "gen_ai.client.inference.usage.reasoning.output_tokens"
M_OPERATION_INPUT: Final = "gen_ai.client.inference.operation.input_tokens"
M_OPERATION_OUTPUT: Final = "gen_ai.client.inference.operation.output_tokens"
M_EMBEDDINGS_DURATION: Final = "gen_ai.client.embeddings.duration"
M_EMBEDDINGS_INPUT: Final = "gen_ai.client.embeddings.operation.input_tokens"
# llmwatch
M_LLMWATCH_COST: Final = "llmwatch.client.cost"
M_LLMWATCH_REQUESTS: Final = "llmwatch.client.requests"
M_LLMWATCH_FLAGS: Final = "llmwatch.client.flags"
