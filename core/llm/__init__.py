"""The language model, behind one interface (`core.llm.base.Engine`) and three engines:

- `llamacpp`: llama.cpp's server as a child process (the default without a GPU),
- `transformers`: the model in this process (the default with a CUDA or Apple GPU; fine-tuning),
- `openai`: OpenAI-compatible servers elsewhere (vLLM, llama.cpp, TGI, Ollama).

Pages and the rest of `core` call `load_llm(settings)` and then only the interface: `stream`,
`complete`, `count_tokens`, `fit`, `info`, `busy`, `warm_up`.
"""

from core.llm.base import (
    Engine,
    EngineError,
    FittedPrompt,
    Generation,
    GenerationOptions,
    GenerationStats,
    ModelInfo,
    ModelUnavailable,
)
from core.llm.loader import choose_engine, describe, load_llm

__all__ = [
    "Engine",
    "EngineError",
    "FittedPrompt",
    "Generation",
    "GenerationOptions",
    "GenerationStats",
    "ModelInfo",
    "ModelUnavailable",
    "choose_engine",
    "describe",
    "load_llm",
]
