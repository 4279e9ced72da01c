"""Optional LLM opening for the weekly digest, through the same client as lesson distillation (bot.app.llm).

Only aggregate figures leave the process (counts, rates, durations: no message text, no names, no topics);
they are masked and capped all the same. The answer is capped too, and an answer that could mention or ping
someone is refused. Any failure leaves the digest its template opening.
"""

from __future__ import annotations

import json
import logging
import re

from openai import AsyncOpenAI

from bot.app.llm import make_client, strip_fence
from bot.settings import Settings
from facilitation_rules.text.distill import mask_private

logger = logging.getLogger(__name__)

MAX_OPENING_CHARS = 400
MAX_OPENING_TOKENS = 160  # a little over MAX_OPENING_CHARS, so the model is not cut off mid-sentence
LANGUAGES = {"en": "English", "de": "German"}
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
_MENTION = re.compile(r"[<@]")  # platform markup (<@U1>, <!here>) or a ping (@channel, @everyone)

SYSTEM_PROMPT = (
    "You write the opening of the weekly digest of a change community's chat channel: two or three warm, "
    "plain sentences that tell the story of the period from the figures given, in {language}. Use only these "
    "figures; never invent names, topics or numbers; no greeting, no emoji, no markup. Answer with one JSON "
    'object with the key "opening".'
)


def make_narrator(settings: Settings) -> LLMNarrator | None:
    """The LLM narrator when a model is configured; None keeps the template opening."""
    return LLMNarrator(settings) if settings.has_llm else None


class LLMNarrator:
    """The digest rule's `Narrator` port onto an OpenAI-compatible endpoint."""

    def __init__(self, settings: Settings, client: AsyncOpenAI | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)

    async def opening(self, figures_summary: str, language: str) -> str | None:
        """The model's opening, or None (the template) when the model cannot deliver a usable one."""
        user_prompt = mask_private(figures_summary)[: self.settings.openai_max_input_chars]
        try:
            answer = await self._ask(user_prompt, LANGUAGES.get(language, "English"))
        except Exception as exc:  # any failure of the optional path falls back; the reason goes to the log
            logger.warning("LLM digest opening failed (%s: %s); using the template", type(exc).__name__, exc)
            return None
        opening = capped(answer)
        if opening is None:
            logger.warning("LLM digest opening unusable (%d chars); using the template", len(answer))
        return opening

    async def _ask(self, user_prompt: str, language: str) -> str:
        response = await self.client.chat.completions.create(
            model=self.settings.openai_model,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT.format(language=language)},
                {"role": "user", "content": user_prompt},
            ],
            response_format={"type": "json_object"},
            max_tokens=MAX_OPENING_TOKENS,
            temperature=0.4,
        )
        data = json.loads(strip_fence(response.choices[0].message.content or ""))
        opening = data.get("opening") if isinstance(data, dict) else None
        if not isinstance(opening, str):
            raise ValueError("the model's answer has no opening")
        return opening


def capped(text: str) -> str | None:
    """At most MAX_OPENING_CHARS, cut after a whole sentence; None if empty, unsentenced or able to ping."""
    text = " ".join(text.split())
    if not text or _MENTION.search(text):
        return None
    if len(text) <= MAX_OPENING_CHARS:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, MAX_OPENING_CHARS)]
    return text[: ends[-1]] if ends else None
