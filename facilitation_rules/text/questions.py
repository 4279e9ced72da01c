"""Question detection for English and German chat messages.

Steward must notice information-seeking questions whether or not they carry a "?", and must not
flag greetings, backchannels ("oh really?"), rhetorical questions or jokes. The detector is a
small set of linguistic rules (question marks, wh-words, verb-first clauses, requests for help,
problem reports) applied per sentence, so it stays fast, explainable and offline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from facilitation_rules.text.language import detect_language

logger = logging.getLogger(__name__)


def _wordset(text: str) -> frozenset[str]:
    """Whitespace-separated word list, written as a block of text for readability."""
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[str]:
    """ "|"-separated phrase list (phrases may contain spaces)."""
    return frozenset(phrase.strip() for phrase in text.split("|"))


THRESHOLD = 0.5
# Mentions and nick-like tokens become this placeholder: a person the clause may address or be about.
HANDLE = "xuserx"
_HANDLE_SUB = f" {HANDLE} "
_NICK = re.compile(r"(?<![\w/])(?=[\w.\-]*[a-zA-Z])(?=[\w.\-]*\d)[\w.\-]{4,}")
_CERTAIN = 0.85  # a sentence this clearly a question settles the message
# A short verbless "?" phrase followed by more text echoes the other speaker ("Snow? We never get snow.").
FRAGMENT = "qmark-fragment"
_FRAGMENT_WORDS = 3
_ECHO_SCORE = 0.4
PROBLEM = "problem-report"


@dataclass(frozen=True, slots=True)
class QuestionVerdict:
    """Outcome of question detection; `reason` names the rule that decided it."""

    is_question: bool
    score: float  # 0..1
    language: str  # 'en' | 'de'
    reason: str  # short machine-readable reason, e.g. "qmark", "wh-start", "request-for-info", "rhetorical"


# --------------------------------------------------------------------------------------------------
# Normalisation: strip platform markup so the rules see only prose.
# --------------------------------------------------------------------------------------------------
# (characters that must occur for the rule to apply, pattern, replacement); the guard keeps plain
# messages from paying for every substitution.
_MARKUP_SUBS: tuple[tuple[tuple[str, ...] | None, re.Pattern[str], str], ...] = (
    (("```",), re.compile(r"```.*?(?:```|\Z)", re.S), "\n"),  # fenced code blocks (possibly unterminated)
    (("`",), re.compile(r"`[^`\n]+`"), " code "),  # inline code behaves like a noun
    (("[<",), re.compile(r"\[<-\w+->\]"), " code "),  # masked code/links in exported logs
    (("<",), re.compile(r"<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>"), r" \1 "),  # Slack links, keep label
    (("://", "www."), re.compile(r"https?://\S+|www\.\S+"), " link "),
    (("<",), re.compile(r"<@[!&]?[^>]*>"), f" {HANDLE} "),  # Slack/Discord user and role mentions
    (("<",), re.compile(r"<(?:#|!)[^>]*>"), " "),  # channel mentions, @here
    (("<",), re.compile(r"<a?:\w+:\d+>"), " "),  # Discord custom emoji
    (("<",), re.compile(r"<[^<>\s]{1,15}>"), " "),  # transcription fillers such as <uh>
    ((":",), re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?!\w)", re.I), " "),  # :emoji: shortcodes
    (("@",), re.compile(r"(?<!\w)@[\w.\-]+[:,]?"), f" {HANDLE} "),  # @mentions
    ((">",), re.compile(r"^\s*>.*$", re.M), " "),  # quoted lines are someone else's words
    # nick names, ids and versions (letters mixed with digits)
    (tuple("0123456789"), _NICK, _HANDLE_SUB),
    (None, re.compile(r"(\w)\1{2,}"), r"\1"),  # stretched words: "sooo", "hmmmm"
    (tuple("’‘`´"), re.compile(r"[’‘`´]"), "'"),
    (("？",), re.compile(r"[？]"), "?"),
)
_SPACES = re.compile(r"[ \t]+")


@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Remove chat markup (code, links, mentions, emoji) that would confuse the rules.

    Cached: the question detector and the cues look at the same message one after another.
    """
    for triggers, pattern, repl in _MARKUP_SUBS:
        if triggers is None or any(t in text for t in triggers):
            text = pattern.sub(repl, text)
    return _SPACES.sub(" ", text).strip()


# A sentence ends at a newline, or at . ! ? followed by space (a "?" stays with its sentence).
_SENTENCE = re.compile(r"[^\n.!?]*(?:[.!?]+(?=\s|$)|[.!?]+|\n|$)")
_TRAILING_JUNK = re.compile(r"[\s)\](}\"'*_~^:;,.\-=<>dDpP0-9]*$")
_QMARK_END = re.compile(r"\?[!?.1]*$")


def split_sentences(text: str) -> list[str]:
    """Split into sentences; chat rarely punctuates, so newlines count as boundaries too."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" \n.!")]


def _ends_with_qmark(sentence: str) -> bool:
    """True if the sentence ends in "?" (ignoring trailing smileys and quotes)."""
    tail = sentence[-16:]  # bounded: anchored-at-end patterns are slow on long lines
    if not tail.endswith("?"):
        tail = _TRAILING_JUNK.sub("", tail)
    return bool(_QMARK_END.search(tail))


# --------------------------------------------------------------------------------------------------
# Shared word lists
# --------------------------------------------------------------------------------------------------
_WORD = re.compile(r"[a-zäöüß0-9']+")


def _words(sentence: str) -> list[str]:
    """Lower-case word tokens; repeated words ("wann wann") are collapsed as speech disfluency."""
    out: list[str] = []
    for word in _WORD.findall(sentence.lower()):
        if not out or out[-1] != word:
            out.append(word)
    return out


# --------------------------------------------------------------------------------------------------
# English
# --------------------------------------------------------------------------------------------------
_EN_LEADERS = _wordset(
    """
    well so and but oh uh um umm uhm er erm ah ahh ok okay k hey hi hello yo yeah yes yep yea ya no
    nope now then also like anyway anyways btw lol haha hehe hmm hm guys folks everyone sorry alright
    right actually basically or plus see wait sir madam dear mr mrs ms morning afternoon evening hiya
    heya heyy thanks ps all xuserx omg aw aww wow lmao rofl ehh oops hah ha man dude bro
    """
)
_EN_WH = _wordset(
    "what how why where when which who whom whose what's how's where's who's when's why's whats hows "
    "wheres whos wat wut y'all"
)
_EN_EXCLAMATIVE = _wordset("a an nice cool great awesome lovely sweet sad funny cute beautiful wonderful")
_EN_WH_COMPLEMENTS = _wordset("about if else kind sort type")
_EN_SO_INVERSION = _wordset("so neither nor")  # "so do we" agrees, it does not ask
_EN_WH_CONTRACTED = _wordset("what's how's where's who's when's why's whats hows wheres whos whys")
_EN_AUX = _wordset(
    """
    do does did is are was were am can could will would should shall may might have has had must
    need r
    """
)
_EN_AUX_NEG = _wordset(
    """
    don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't shouldn't haven't
    hasn't hadn't ain't dont doesnt didnt isnt arent wasnt werent cant couldnt wont wouldnt shouldnt
    havent hasnt
    """
)
_EN_PRONOUN_SUBJ = _wordset(
    """
    i you u ya we they he she it there this that these those anyone anybody someone somebody
    everyone everybody everything anything something nothing xuserx y'all ye one people
    i'm you're we're they're it's that's there's i'll you'll
    we'll they'll i'd you'd we'd they'd he's she's i've you've we've they've
    """
)
_EN_DETERMINERS = _wordset("the a an my your ur our their his her its any some all every both either no")
# Verbs that open statements ("have a look", "was a mistake") unless a pronoun follows them.
_EN_NEEDS_PRONOUN = _wordset("do have had may must need am was were")
_EN_CHAT_PRONOUNS = _wordset("u ya ye r ur")
_EN_CHAT_MODALS = _wordset("wanna gonna gotta")  # "who wanna test it": the auxiliary is fused into the verb
_EN_ANY = _wordset("any anyone anybody anything someone somebody anywhere")
_EN_PREPOSITIONS = _wordset("at in on for from to with since by of until about")
_EN_ANY_NON_QUESTION = _wordset(
    "time more way longer further case how thing day can could will would should must who that"
)
_EN_RETURN = re.compile(r"^(?:(?:and|what about|how about) )?(?:you|u|ya|yours|urself|yourself|you guys)$")
# A short answer handed back without "?" ("busy week and you"): the speaker asks the same of the other.
_EN_RETURN_TAIL = re.compile(
    r"^(?!.*\b(?:me|him|her|us|them|between|both) and)(?:\S+ ){1,3}and (?:you|u|yours|urself|yourself)(?: xuserx)?$"
)
# Reactions that acknowledge or express surprise; clarification requests ("what?", "pardon?", "me?")
# and summons ("yes?", "@name?") do ask for something and are not listed.
_EN_BACKCHANNEL = _phrases("""
    really|oh really|right|eh|yeah|no|ok|okay|sure|seriously|is that right|is that so|
    no way|you know|y'know|lol|wtf|oh|ya|yea|yep|nope|nah|heh|hmm|hm|oh yeah|oh yes|or|
    sorry|are you serious|you serious|srsly|for real|
    oh no|oh my|is it|was it|you think|you do|true|right right|yeah right|ya think|
    did you|do you|are you|were you|oh did you|oh do you|oh are you|oh is it|oh was it|ok so
    """)
_EN_RHETORICAL = re.compile(
    r"^(?:who cares|who knows|who doesn't|who does that|what the (?:hell|heck|fuck|f)\b(?!.*\b(?:is|are|do"
    r"|does)\b)"
    r"|how (?:cool|nice|awesome|great|sad|funny|cute|sweet|lucky|rude|dumb|stupid|weird) (?:is that|was that)"
    r"|guess what|you know what|what do you know|am i right|are you kidding|are you serious|you kidding"
    r"|what else is new|how dare|why would (?:i|anyone|you) (?:ever )?(?:want|care)|isn't (?:it|that) "
    r"(?:great|nice|cool|funny|ironic|amazing|sweet|awesome)|what's not to (?:like|love)|why bother"
    r"|what could (?:possibly )?go wrong|who would have thought|who'd have thought|knock knock"
    r"|what do you call an? |why did the \w+ cross)"
)
_EN_SMALLTALK = re.compile(
    r"^(?:how (?:are|r) (?:you|u|ya|y'all|things)|how's it going|hows it going|how are things"
    r"|how (?:you|ya|u) doin(?:g|')?|how do you do|what's up|whats up|sup|wassup|how have you been"
    r"|how's everyone|how was your (?:weekend|day|holiday|vacation))\b"
)
# Requests for action, offers and suggestions are phrased as questions but ask for a deed, not for
# information ("could you pass me ...", "may I see ...", "how about a coffee?", "shall we ...").
_EN_INFO_VERBS = (
    r"(?:tell|explain|help|recommend|suggest|advise|clarify|confirm|let me know|point|share|describe|provide)"
)
# "why don't you come along" suggests; with a verb of state ("why don't you like it") it asks for a reason.
_EN_STATIVE = r"(?:have|believe|know|like|want|think|understand|need|love|agree|care|trust|feel|remember)\b"
_EN_DIRECTIVE = re.compile(
    r"^(?:(?:would|could|will|can|won't) (?:you|u|ya) (?:please |kindly |just |maybe )?(?!(?:please |kindly )?"
    + _EN_INFO_VERBS
    + r")(?:mind|please|kindly|give|pass|bring|send|take|pick|wait|hold|open|close|turn|put|fill|sign|book|"
    r"reserve|call|come|make|change|repeat|speak|lend|hand|show|keep|move|stop|write|spell|lower|raise|"
    r"get me|do me|be so kind|sit|step|follow|leave|drive|join|lock|unlock|print|copy|check)\b"
    r"|(?:could|may|can) (?:i|we) (?:please )?(?:have|see|borrow|take|get|speak|talk|try|come|sit|leave|go|"
    r"stop|meet|suggest|put|use your|ask you|ask a|know your|interrupt)\b"
    r"|may i (?!help)\w+|can we \w+|shall (?:we|i) \w+|why don't (?:we|you|i) (?!"
    + _EN_STATIVE
    + r")\w+|why not (?!\?)\w+"
    r"|how about (?!(?:you|your|yours|him|her|them|they|it|that)\b)\w+|would you like\b|would you care\b"
    r"|let's\b)"
)
_EN_INDIRECT_DIRECTIVE = re.compile(
    r"\bwonder(?:ing)? (?:if|whether) (?:you|i|we|the \w+) (?:could|can|would|might) (?:please )?(?!"
    + _EN_INFO_VERBS
    + r")\w+"
)
_EN_NON_QUESTION_OPENING = re.compile(r"^\W*(?:why|what|who|how)\s*,")
_EN_LISTENER = _wordset("you u ur you're youre your")
# Words after which "right" is an adjective or direction ("you're so right", "turn right"), not a tag.
_EN_NOT_BEFORE_RIGHT = _wordset(
    "all alright that's thats is are was exactly turn left the go just it right me you're youre ur u you so "
    "quite very too totally dead"
)
_EN_TAG = re.compile(
    r",\s*(?:(?:isn't|aren't|wasn't|weren't|don't|doesn't|didn't|won't|wouldn't|can't|couldn't|haven't|"
    r"hasn't|shouldn't|is|are|was|were|do|does|did|will|would|can|could|have|has) "
    r"(?:it|you|they|he|she|we|i|there|that)|right|ok|okay|eh|huh|correct|yes or no)\W*$"
)
# "I think it's fixed now?" is a hedged statement, not a request for information.
_EN_OPINION = re.compile(r"i (?:think|guess|believe|suppose|feel like|reckon)\b")
_DE_OPINION = re.compile(r"(?:ich )?(?:glaube|denke|finde|schätze)\b")
_DE_DIRECTIVE = re.compile(r"(?:wie wär(?:e|s|'s) es\b|lass(?:t)? uns\b)")
# Joke set-ups: a question answered by its own punchline in the same message.
_JOKE_SETUP = re.compile(
    r"\W*(?:why did the|what do you call an?|how many \w+ does it take|warum ging (?:der|die|das)|"
    r"wie nennt man (?:einen|eine|ein)|wie viele \w+ braucht man)\b",
    re.I,
)
_EN_REQUEST_START = re.compile(
    r"(?:(?:any ?(?:one|body)|some ?(?:one|body)) (?:here |else |around |out there )?(?:know|knows|have|has|"
    r"got|tried|seen|use|using|used|familiar|experienced|able|aware|done|had|run|want|wanna|interested|"
    r"recommend|mind|can help|could help|can tell|could tell|would know|good with|working|work|running|"
    r"having|getting|seeing|else|here|around)\b"
    r"|any (?:ideas?|clues?|thoughts|suggestions?|tips|hints?|pointers?|help|advice|news|updates?|luck|"
    r"way|chance|reason|recommendations?|experience|input|feedback|progress|word|eta)\b"
    r"|(?:quick|short|small|simple|stupid|dumb|noob|newbie|silly|basic|one more|another|general) "
    r"(?:questions?|doubts?)\b|(?:questions?|doubts?)\s*:|help\W*$|help me\b)"
)
_EN_REQUEST = re.compile(
    r"(?:\bi (?:was |am |'m )?wonder(?:ing)? (?:if|whether|how|what|why|where|who|which|when)\b"
    r"|\bi'?m wondering\b|(?<!you )\bwondering (?:if|whether)\b"
    r"|\bcurious (?:if|whether|how|what|why)\b|\b(?:want|wanted|like|wanna) to ask (?:if|whether|about|how|what|why)\b"
    r"|\bhope (?:some ?one|any ?one|some ?body|any ?body) (?:here |out there )?(?:\w+ )?(?:can|could|has|knows|will|"
    r"might)\b"
    r"|\b(?:can|could|would|will) (?:some ?one|any ?one|some ?body|any ?body|you|u|ya|y'all|you guys|"
    r"people|someone here) (?:please |pls |plz |kindly |maybe )?(?:help|tell|explain|point|show|advise|"
    r"suggest|recommend|confirm|clarify|share|look|give|guide|send)\b"
    r"|\b(?:please|pls|plz|kindly) (?:help|advise|suggest|explain|clarify|let me know|share your|guide)\b"
    r"|(?<!you )\b(?:need|needs|needed|looking for|searching for|appreciate any|appreciate some"
    r"|seeking) (?:some |any |a "
    r"little |a bit of |your |a )?(?:help|advice|assistance|guidance|suggestions?|recommendations?|"
    r"pointers?|tips?|hints?|input|direction|support|documentation|docs|tutorials?|examples?)\b"
    r"|\b(?:i have|i've got|i got|i've) (?:a|one|another|some|few|a few|two|a couple of)? ?(?:quick |short |"
    r"small |simple |stupid |dumb |noob |newbie |silly |basic |general )?(?:questions?|doubts?)\b"
    r"|\blet me know (?:if|whether|how|what|when|where|which|who)\b"
    r"|\b(?:not sure|unsure|confused about|not clear) (?:if|whether|how|what|why|where|which|when|"
    r"who)\b(?! (?:i|i'm|i've|i'll|we|they|he|she|you|that's|it|they're|you're)\b)"
    r"|\b(?:please|pls|plz|can|could|would|someone|anyone|somebody|anybody) help me\b"
    r"|\bhelp (?:needed|wanted|please|pls)\b|\bis there (?:a|any) way\b"
    r"|\b(?:looking for|searching for|trying to find) (?:a|an|some|the|any) (?:\w+ )?(?:way|solution|example|approach|"
    r"workaround|method)\b|\bif (?:any ?one|some ?one|any ?body|some ?body) (?:here )?(?:can|could|knows|has)\b"
    r"|\bhow (?:do|can|should|could|would|to) (?:i|we|you|one)\b"
    r")"
)
_EN_REQUEST_TRIGGERS = (
    "wonder",
    "help",
    "please",
    "pls",
    "plz",
    "kindly",
    "need",
    "looking",
    "searching",
    "seeking",
    "appreciate",
    "question",
    "let me know",
    "sure",
    "confused",
    "clear",
    "is there",
    "how ",
    "doubt",
    "curious",
    "ask",
    "hope",
    "way",
    "solution",
    "example",
    "approach",
    "workaround",
    "method",
    "if any",
    "if some",
)
_EN_PROBLEM_TRIGGERS = (
    "known",
    "error",
    "exception",
    "issue",
    "problem",
    "trouble",
    "bug",
    "fail",
    "crash",
    "n't",
    "not ",
    "cannot",
    "unable",
    "stopped",
    "no longer",
    "struggl",
    "stuck",
    "confused",
    "clueless",
    "hard time",
    "traceback",
    "stack",
    "caused by",
    "trying",
    "into",
    "able",
)
_EN_PROBLEM = re.compile(
    r"(?:\b(?:getting|facing|having|seeing|running into|hitting|encountering|experiencing|get|got|throws?|"
    r"throwing|gives?|giving) (?:an? |the |this |that |some |same |these |following |a weird |a strange "
    r"|strange |weird |an odd )?(?:\w+ )?(?:error|exception|issues?|problems?|trouble|bug|failures?|crash)"
    r"|\b(?:doesn't|does not|doesnt|don't|do not|dont|isn't|is not|won't|will not|didn't|did not|"
    r"stopped|not|no longer) (?:seem to |really |quite |always )?(?:work|working|works|load|loading|start|"
    r"starting|run|running|compile|compiling|connect|connecting|respond|responding|resolve|picked up|"
    r"get picked up|found|recognized|recognised|sync|syncing)\b"
    r"|\b(?:can't|cannot|can not|cant|couldn't|unable to|not able to) (?:seem to )?(?:get|figure|make|"
    r"access|log ?in|login|sign in|connect|run|install|open|reach|load|resolve|build|deploy|configure|"
    r"understand|find a way|import|upload|download|enable|disable|override|start|use|send|create|read|write|"
    r"find|set|add|change|update|save|test|debug|migrate|upgrade|integrate|pass|bind|map|register|execute|"
    r"launch|inject|fetch|retrieve|display|show|see)\b"
    r"|\b(?:struggl\w+|stuck|confused|clueless|trouble|having a hard time) (?:with|on|about|to|at|by|"
    r"getting|understanding|figuring)\b"
    r"|\b(?:i'?m|i am|we'?re|we are) (?:currently |now )?trying to\b|\b(?:running|ran|run) into\b"
    r"|\b(?:haven't|have not|wasn't|was not|am not) (?:been )?able to\b"
    r"|\b\w+(?:exception|error)\b|\b(?:traceback|stack ?trace|caused by|error creating|fails with|"
    r"failed with|error:|exception in|exception:|known (?:issue|bug|problem))"
    r")"
)

# A problem report asks for help when it carries technical detail; "my car won't start" in small talk does not.
_EN_TECHNICAL = re.compile(
    r"(?i:error|exception|issue|bug|fail|crash|stack|traceback|caused by|unable|not able)"
    r"|\b(?:code|link|xuserx)\b|\w\.\w|[A-Z]\w+[A-Z]"
)


def _has_any(text: str, triggers: tuple[str, ...]) -> bool:
    """Cheap substring pre-check so the large alternation regexes run only on promising sentences."""
    return any(t in text for t in triggers)


def _strip_leaders(words: list[str], leaders: frozenset[str]) -> list[str]:
    """Drop discourse markers ("well", "so", "ok", "ja", "also") that precede the real clause."""
    i = 0
    while i < len(words) - 1 and words[i] in leaders:
        i += 1
    return words[i:]


def _en_syntax(words: list[str]) -> tuple[float, str]:
    """Score an English clause by its opening: wh-word or subject-auxiliary inversion."""
    if not words:
        return 0.0, "empty"
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    third = words[2] if len(words) > 2 else ""
    if first in _EN_WH:
        return _en_wh(first, second, third, words)
    if first in _EN_PREPOSITIONS and second in _EN_WH and third:
        return 0.7, "wh-start"
    if first in ("anyone", "anybody", "any") and second and second not in _EN_ANY_NON_QUESTION:
        return 0.65, "anyone-start"
    if first in _EN_AUX:
        if first == "do" and second in ("it", "that", "this", "one", "something", "everything", "anything"):
            return 0.2, "imperative"
        if second in _EN_PRONOUN_SUBJ:
            return 0.85, "aux-inversion"
        if first not in _EN_NEEDS_PRONOUN and second in _EN_DETERMINERS and len(words) > 2:
            return 0.75, "aux-inversion"
        return 0.0, "none"
    if first in _EN_AUX_NEG and second in _EN_PRONOUN_SUBJ and second not in ("this", "that"):
        return 0.75, "negative-inversion"
    return 0.0, "none"


def _en_wh(first: str, second: str, third: str, words: list[str]) -> tuple[float, str]:
    """Score clauses opening with a wh-word; wh + subject pronoun is usually a free relative."""
    if first in _EN_WH_CONTRACTED:
        return 0.8, "wh-start"
    if not second:
        return 0.3, "wh-alone"
    if first in ("what", "how") and second in _EN_EXCLAMATIVE:
        return 0.1, "exclamation"
    if first == "which" and (second in _EN_AUX or second.endswith("s")):
        return 0.3, "wh-relative"
    if second in _EN_AUX or second in _EN_AUX_NEG or second in _EN_WH_COMPLEMENTS:
        return 0.8, "wh-start"
    if first == "how" and second in (
        "come",
        "so",
        "to",
        "much",
        "many",
        "long",
        "often",
        "far",
        "old",
        "big",
        "soon",
        "exactly",
        "does",
        "do",
    ):
        return 0.8, "wh-start"
    if first == "why" and second == "not":
        return 0.55, "wh-start"
    if second in _EN_CHAT_PRONOUNS or second in _EN_CHAT_MODALS or (first == "why" and second not in _EN_PRONOUN_SUBJ):
        return 0.65, "wh-start"
    if second in _EN_PRONOUN_SUBJ or first == "how":
        return 0.3, "wh-relative"
    if first not in ("what", "which", "whose", "who"):
        return 0.3, "wh-subordinate"
    # wh + noun phrase + auxiliary ("which version do you use", "what time is it")
    if any(w in _EN_AUX or w in _EN_AUX_NEG for w in words[2:5]):
        return 0.75, "wh-start"
    return (0.6, "wh-start") if first == "which" else (0.45, "wh-other")


def _en_fragment(core: list[str]) -> bool:
    """A short verbless phrase ("the station?", "tomorrow?"): an echo when the message goes on."""
    if len(core) > _FRAGMENT_WORDS or HANDLE in core or not any(w.isalpha() for w in core):
        return False
    first = core[0]
    return not (
        first in _EN_WH
        or first in _EN_AUX
        or first in _EN_AUX_NEG
        or first in _EN_PRONOUN_SUBJ
        or first in _EN_ANY
        or any(w in _EN_WH for w in core)
    )


def _classify_en(sentence: str, words: list[str]) -> tuple[float, str]:
    """Score one English sentence."""
    low = " ".join(words)
    core = _strip_leaders(words, _EN_LEADERS)
    core_text = " ".join(core)
    qmark = _ends_with_qmark(sentence)
    if _EN_RHETORICAL.match(core_text) or (qmark and _EN_OPINION.match(core_text)):
        return 0.15, "rhetorical"
    if _EN_DIRECTIVE.match(core_text) or ("wonder" in low and _EN_INDIRECT_DIRECTIVE.search(low)):
        return 0.3, "request-for-action"
    if qmark:
        if _EN_RETURN.match(core_text) or _EN_RETURN.match(low):
            return 0.8, "return-question"
        if core_text in _EN_BACKCHANNEL or low in _EN_BACKCHANNEL:
            return 0.2, "backchannel"
        if all(w in _EN_LEADERS for w in core):
            return (0.7, "summons") if HANDLE in core or core[-1] == "yes" else (0.2, "backchannel")
        if _EN_SMALLTALK.match(core_text):
            return 0.7, "small-talk"
        if _en_fragment(core):
            return 0.9, FRAGMENT
        if len(core) > 4 and core[-2:] == ["you", "know"] and _en_syntax(core[:-2])[0] < THRESHOLD:
            return 0.3, "filler-tag"  # "they close early, you know?": seeks agreement, not information
        return 0.9, "qmark"
    if _EN_SMALLTALK.match(core_text):
        return 0.55, "small-talk"
    if (
        len(core) < len(words)
        and words[len(words) - len(core) - 1] == HANDLE
        and core[0] in _EN_AUX
        and (len(core) < 2 or core[1] not in _EN_PRONOUN_SUBJ)
    ):
        return 0.1, "statement-opening"  # "@ann has a point": the handle is the subject
    score, reason = _en_syntax(core)
    if _EN_NON_QUESTION_OPENING.match(sentence.lower()) or (words[0] in _EN_SO_INVERSION and len(core) < 4):
        score, reason = 0.1, "statement-opening"
    elif sentence.endswith("!") and score >= THRESHOLD:
        score, reason = 0.4, "exclamation"
    if score >= THRESHOLD:
        return score, reason
    if _EN_REQUEST_START.match(core_text) or (_has_any(low, _EN_REQUEST_TRIGGERS) and _EN_REQUEST.search(low)):
        return 0.75, "request-for-info"
    if _EN_RETURN.match(low) or _EN_RETURN_TAIL.match(low):
        return 0.6, "return-question"
    if len(words) > 3 and _EN_TAG.search(sentence[-24:].lower()):
        return 0.6, "tag-question"
    if words[-1] == "right" and not sentence.endswith(".") and _en_bare_right_tag(words):
        return 0.6, "tag-question"
    if _has_any(low, _EN_PROBLEM_TRIGGERS) and _EN_PROBLEM.search(low):
        return 0.6, PROBLEM
    if "," in sentence and not sentence.endswith((".", ",", "-")) and _en_comma_wh(sentence):
        return 0.6, "wh-inner"
    return score, reason


def _en_bare_right_tag(words: list[str]) -> bool:
    """Chat drops the comma before a confirming tag ("you're on the new version right").

    Only a clause about the listener counts; "that's right" and "turn right" are not tags.
    """
    before = words[-2] if len(words) > 2 else ""
    return words[0] in _EN_LISTENER and before not in _EN_NOT_BEFORE_RIGHT and not before.endswith("ly")


def _en_comma_wh(sentence: str) -> bool:
    """An unpunctuated chat line often answers first and asks after a comma ("all good, where are you based").

    Only the last clause counts, and not "which"/"who", which after a comma start relative clauses.
    """
    words = _words(sentence.rpartition(",")[2])
    return (
        len(words) > 1
        and words[0] in _EN_WH
        and words[0] not in ("which", "who", "whom", "whose")
        and (words[1] in _EN_AUX or words[1] in _EN_CHAT_PRONOUNS)
    )


# --------------------------------------------------------------------------------------------------
# German
# --------------------------------------------------------------------------------------------------
_DE_LEADERS = _wordset(
    """
    ja also und ok okay gut na nun so äh ähm hm hmm naja tja aha achso ach oh hallo hi hey moin servus
    oder aber genau prima super schön alles klar danke gut okay ok sorry übrigens btw kurz leute zusammen
    liebe lieber xuserx moment warte hallöchen mahlzeit morgen guten tag grüß gott ihr alle noch eine frage
    """
)
_DE_WH = _wordset(
    """
    was wer wen wem wessen wann wo wie warum wieso weshalb weswegen welche welcher welches welchen
    welchem wohin woher womit wozu wofür worüber worauf woran wodurch worum wovon inwiefern wieviel
    wieviele inwieweit was's wie's wo's
    """
)
_DE_SUBJ = _wordset("ich du er sie es wir ihr man jemand wer einer xuserx irgendwer irgendjemand jmd das dies der die")
_DE_PERSONAL = _wordset("ich du er sie es wir ihr man")
_DE_DATIVE = _wordset("mir dir ihnen euch uns ihm")
_DE_MODAL = _wordset(
    """
    kann kannst können könnt könnte könntest könnten könntet soll sollst sollen sollt sollte solltest
    sollten muss musst müssen müsst müsste müssten darf darfst dürfen dürfte dürften will willst wollen
    wollt wollte wollten möchte möchtest möchten mag magst habe hab hast haben habt hat hätte hättest
    hätten hättet bin bist sind seid ist wäre wärst wären wärt werde wirst werden werdet wird würde
    würdest würden würdet gibt gab gäbe brauche brauchst brauchen braucht weiß weißt wisst wissen kennt
    kennst kennen geht gehts passt klappt funktioniert läuft hilft reicht stimmt meinst meint meinen
    """
)
_DE_NON_VERBS = _wordset(
    """
    dann jetzt heute morgen gestern hier da dort leider vielleicht eigentlich also aber und oder nur
    auch noch schon gerade grade erst sonst deshalb deswegen trotzdem danach vorher nachher damit dafür
    dazu davon darüber daran darauf seit nach mit von bei für ohne wegen bisher gerne gern bitte danke
    natürlich klar genau richtig gut super prima toll ok okay nein ja doch nicht kein keine einen eine
    den dem des der die das mein meine dein deine unser unsere euer eure ihr ihre irgendwie immer nie
    oft manchmal zuerst zuletzt endlich bald momentan aktuell derzeit übrigens ansonsten außerdem zudem
    beim zum zur im am vom ins ans um bis ab wenn weil dass daß ob als wie so ne nee halt eben mal wohl
    sicher bestimmt vermutlich wahrscheinlich zusammen allein selbst selber dort drüben unten oben
    abends morgens mittags nachmittags vormittags diese dieser dieses diesen montag dienstag mittwoch
    donnerstag freitag samstag sonntag woche nächste nächsten letzte letzten um uhr anfang ende
    """
)
# Without "?", "sollen wir ...", "machen wir ...", "haben wir ..." mostly propose or state (topic drop).
_DE_IMPERSONAL_V1 = _wordset("gibt's gibts geht's gehts klappt's passt's läuft's")
_DE_FIRST_PERSON_ONLY = _wordset("bin hab habe war")
_DE_ICH_QUESTION = _wordset("kann soll darf muss könnte sollte dürfte müsste brauche")
_DE_RETURN = re.compile(
    r"^(?:(?:und|aber) (?:du|sie|ihr|ihnen|dir|euch|bei (?:dir|ihnen|euch))|(?:und )?bei (?:dir|ihnen|euch))$"
)
_DE_WH_STATEMENT = re.compile(
    r"^(?:wie (?:gesagt|immer|besprochen|erwähnt|vereinbart|gewohnt|abgesprochen|angekündigt|geplant|"
    r"versprochen|gewünscht|schon|auch|bereits|oben|unten|folgt|bisher|gehabt|beschrieben|üblich|"
    r"jedes|jeden|man sieht|du siehst|ihr seht|sie sehen)\b|wie wär(?:e|s|'s) (?:es )?(?:mit|am|um|im|an|"
    r"wenn|denn)\b|was auch immer|was soll'?s|wer weiß$|"
    r"was für ein\w*(?: \w+){0,2}$|wo wir gerade)"
)
_DE_RHETORICAL = re.compile(
    r"^(?:wer weiß$|was soll'?s|wen interessiert'?s|wen juckt'?s|warum auch nicht|wieso auch nicht|"
    r"wer hätte das gedacht|was will man mehr|wie geil ist das|wie cool ist das|was denn sonst|"
    r"ist das nicht (?:toll|schön|super|herrlich|genial)|na und)"
)
_DE_BACKCHANNEL = _phrases("""
    echt|wirklich|ne|oder|gell|ja|nee|nein|was|hä|häh|ernsthaft|na und|stimmt's|stimmts|ach ja|ach so|
    achso|ach echt|ach wirklich|ja|jo|ok|okay|und|ehrlich|im ernst|krass|oh|
    ach|so|aha|hm|hmm|ja und|ja oder|nicht wahr|ja ne|ist das so|ist es das|sicher|tatsächlich
    """)
_DE_SMALLTALK = re.compile(
    r"^(?:wie geht'?s|wie geht es (?:dir|euch|ihnen)|wie läuft'?s|alles gut|alles klar|was geht|"
    r"wie war (?:dein|euer|ihr) (?:wochenende|urlaub|tag))\b"
)
_DE_REQUEST = re.compile(
    r"(?:\b(?:weiß|kennt|hat|kann|könnte|hätte|nutzt|benutzt|verwendet|macht|hatte) (?:hier |zufällig |"
    r"vielleicht |schon |denn |mal )*(?:jemand|wer|einer|irgendwer|irgendjemand|jmd|ihr)\b"
    r"|^(?:jemand|irgendwer|irgendjemand|jmd) (?:eine? |ne |n )?(?:idee|ahnung|tipp|tipps|erfahrung|"
    r"erfahrungen|lösung|rat)\b"
    r"|\b(?:kann|könnte|können|könntet|kannst|könntest|könnten) (?:mir|uns) (?:bitte |mal |jemand |wer |"
    r"vielleicht |kurz |noch |einer )*(?:sagen|erklären|helfen|zeigen|schicken|weiterhelfen|verraten|"
    r"mitteilen|geben|sagen|nennen)\b"
    r"|\bich (?:frage|frag) mich\b"
    r"|\bweiß (?:ich )?(?:nicht|nich|net) (?:so )?(?:genau )?(?:ob|wie|wann|wo|was|welche\w*|wer)\b(?! (?:ich|wir)\b)"
    r"|\b(?:bin|sind|ist) (?:mir|uns) (?:nicht|nich|net) (?:ganz |so )?(?:sicher|klar)(?: ,)? (?:ob|wie|wo|"
    r"wann|was|welche\w*|warum|wer|wieso)\b(?! (?:ich|wir)\b)"
    r"|\b(?:suche|such|bräuchte|brauche|benötige|benötigen|bräuchten|brauchen) (?:\w+ )?(?:hilfe|tipps?|"
    r"rat|unterstützung|infos?|informationen|ansprechpartner\w*|anleitung|doku\w*|empfehlung\w*)\b"
    r"|\bfragen?\s*:|\b(?:kurze|eine|noch eine|kleine|schnelle|dumme|blöde) frage\b"
    r"|\bich (?:hätte|habe|hab) (?:da )?(?:mal )?(?:eine|ne|'ne) frage\b"
    r"|\bgibt (?:es|'s) (?:eine |irgendeine |ne )?(?:möglichkeit|lösung|anleitung|doku\w*|ansprechpartner)\b"
    r"|\bhilfe\s*!*$|\bbitte um (?:hilfe|rückmeldung|info\w*|feedback|rat)\b"
    r"|\bwie (?:kann|muss|soll|könnte|sollte) (?:ich|man|wir)\b"
    r")"
)
_DE_REQUEST_TRIGGERS = (
    "jemand",
    "wer",
    "einer",
    "jmd",
    "ihr",
    "mir",
    "uns",
    "frag",
    "sicher",
    "klar",
    "weiß",
    "such",
    "brauch",
    "benötig",
    "bräucht",
    "hilfe",
    "gibt",
    "bitte um",
    "wie ",
)
_DE_PROBLEM_TRIGGERS = ("nicht", "nich", "net", "fest", "fehler", "error", "zugriff", "zugang", "bekannt")
_DE_PROBLEM = re.compile(
    r"(?:\b(?:funktioniert|funktionieren|klappt|klappen|läuft|laufen|lädt|startet|öffnet|"
    r"synchronisiert|erscheint)(?: \w+){0,5} (?:nicht|nich|net)\b"
    r"|\b(?:komme?|komm|kommen) (?:\w+ ){0,2}(?:nicht|nich|net) (?:mehr )?weiter\b"
    r"|\b(?:hänge?|häng|hängen) (?:\w+ ){0,2}fest\b"
    r"|\b(?:bekomme?|krieg\w*|erhalte) (?:\w+ ){0,3}(?:fehler\w*|error)\b"
    r"|\bkein(?:en)? (?:zugriff|zugang)\b"
    r"|\b(?:kann|konnte|können) (?:mich |ich |wir )?(?:\w+ ){0,4}(?:nicht|nich|net) (?:\w+ ){0,3}(?:ein|an)"
    r"(?:loggen|melden)\b|\bbekannte[sr]? (?:problem|fehler|bug)\b"
    r")"
)
_DE_TAG = re.compile(r"\b(?:oder|oder wie|nicht wahr|oder nicht|stimmt's|stimmts|oder was)$")
_DE_FINITE_SHAPE = re.compile(r"^[a-zäöüß]{3,}(?:st|t)$")
_DE_VERB_SHAPE = re.compile(r"^[a-zäöüß]+(?:st|t|en|e)$")
_DE_SURPRISE = _wordset("ach aha achso oh echt")
_DE_COMPARATIVE = _wordset("so genauso ebenso sowie als")  # "so wie ...": comparison, not a question
_DE_DEMONSTRATIVE = _wordset("dieses jenes welches meines deines seines unseres eures")
_DE_DENN_FOLLOWER = _wordset(
    "ich du er sie es wir ihr man das der die den dem ein eine einen mein meine unser dann da auch"
)


def _de_v1(first: str, second: str) -> tuple[float, str]:
    """Score a German verb-first clause ("Hast du ...", "Gibt es ...", "Passt Ihnen ...")."""
    if first in _DE_IMPERSONAL_V1:
        return 0.7, "verb-first"
    if first in _DE_FIRST_PERSON_ONLY:
        return 0.3, "topic-drop"  # "bin mir nicht sicher", "hab ich schon": subject "ich" left out
    known = first in _DE_MODAL
    shaped = bool(_DE_VERB_SHAPE.match(first)) and first not in _DE_NON_VERBS
    if not (known or shaped):
        return 0.0, "none"
    if second == "wir":
        return 0.35, "hortative"  # "sollen wir ...", "machen wir ...": a proposal unless marked with "?"
    if second == "ich":
        return (0.75, "verb-first") if first in _DE_ICH_QUESTION else (0.35, "topic-drop")
    if first == "lassen" or (first in ("machen", "macht", "mach") and second in ("sie", "es")):
        return 0.2, "imperative"
    if second in _DE_SUBJ or (known and second in _DE_DATIVE):
        return (0.8 if known else 0.65), "verb-first"
    return 0.0, "none"


_DE_FINITE_AUX = frozenset(
    [
        "hat",
        "habe",
        "haben",
        "hast",
        "hatte",
        "hatten",
        "ist",
        "sind",
        "bin",
        "bist",
        "war",
        "waren",
        "wird",
        "werden",
        "kann",
        "können",
        "will",
        "wollen",
        "muss",
        "müssen",
        "soll",
        "sollen",
        "möchte",
        "möchten",
        "darf",
        "dürfen",
        "weiß",
        "wissen",
        "gibt",
    ]
)


def _de_headless_relative(sentence: str) -> bool:
    """ "Wer schon gebucht hat, bitte …": a w-clause whose finite verb comes last, before a comma, names people."""
    head, comma, _ = sentence.partition(",")
    clause = _words(head.lower())
    return (
        bool(comma)
        and len(clause) >= 3
        and clause[0] in ("wer", "was", "wen", "wem")
        and clause[-1] in _DE_FINITE_AUX
        and clause[1] not in _DE_FINITE_AUX
    )


def _de_wh(words: list[str], core_text: str) -> tuple[float, str]:
    """Score a German clause opening with a w-word; w-word + pronoun is usually a subordinate clause."""
    if _DE_WH_STATEMENT.match(core_text):
        return 0.2, "wh-statement"
    second = words[1] if len(words) > 1 else ""
    if not second:
        return 0.3, "wh-alone"
    if second in _DE_PERSONAL and second not in ("sie", "es"):
        return 0.3, "wh-relative"
    if words[0] == "was" and second.endswith("es") and len(second) > 4 and second not in _DE_DEMONSTRATIVE:
        return 0.2, "indefinite"  # "was Neues", "was Besseres": colloquial "etwas"
    return 0.8, "wh-start"


def _de_denn(words: list[str]) -> bool:
    """Modal particle "denn" inside a clause marks a question ("wie sieht es denn aus")."""
    for i in range(1, len(words)):
        if words[i] == "denn":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt not in _DE_DENN_FOLLOWER:
                return True
    return False


def _de_inner_wh(words: list[str]) -> bool:
    """A w-word directly before a finite verb starts a main-clause question even mid-utterance
    ("..., oder wann fährt der nächste"); subordinate w-clauses put the verb last."""
    for i in range(1, len(words) - 1):
        verb = words[i + 1]
        finite = verb in _DE_MODAL or (_DE_FINITE_SHAPE.match(verb) is not None and verb not in _DE_NON_VERBS)
        if words[i] in _DE_WH and finite and words[i - 1] not in _DE_COMPARATIVE:
            return True
    return False


def _classify_de(sentence: str, words: list[str]) -> tuple[float, str]:
    """Score one German sentence."""
    low = " ".join(words)
    core = _strip_leaders(words, _DE_LEADERS)
    core_text = " ".join(core)
    qmark = _ends_with_qmark(sentence)
    if _DE_RHETORICAL.match(core_text) or (qmark and _DE_OPINION.match(core_text)):
        return 0.15, "rhetorical"
    if _DE_DIRECTIVE.match(core_text):
        return 0.3, "request-for-action"
    if qmark:
        if core_text in _DE_BACKCHANNEL or low in _DE_BACKCHANNEL or not core:
            return 0.2, "backchannel"
        if _DE_SMALLTALK.match(core_text):
            return 0.7, "small-talk"
        return 0.9, "qmark"
    if _DE_SMALLTALK.match(core_text):
        return 0.55, "small-talk"
    if words[0] in _DE_SURPRISE and 1 < len(core) <= _FRAGMENT_WORDS:
        return 0.2, "backchannel"  # "ach, haben Sie nicht": surprised echo, not a request
    if _de_headless_relative(sentence):
        return 0.3, "wh-relative"
    score, reason = _de_syntax(core, core_text)
    if score >= THRESHOLD:
        return score, reason
    if _has_any(low, _DE_REQUEST_TRIGGERS) and _DE_REQUEST.search(low):
        return 0.75, "request-for-info"
    if _DE_RETURN.match(low):
        return 0.6, "return-question"
    if (len(words) > 1 or low == "oder") and _DE_TAG.search(low):
        return 0.6, "tag-question"
    if _de_denn(core):
        return 0.6, "particle-denn"
    if _de_inner_wh(core):
        return 0.6, "wh-inner"
    if _has_any(low, _DE_PROBLEM_TRIGGERS) and _DE_PROBLEM.search(low):
        return 0.6, "problem-report"
    return score, reason


def _de_syntax(core: list[str], core_text: str) -> tuple[float, str]:
    """Score a German clause by its opening: w-word or finite verb first."""
    if not core:
        return 0.0, "empty"
    if core[0] in _DE_WH:
        return _de_wh(core, core_text)
    if len(core) > 1:
        return _de_v1(core[0], core[1])
    return 0.0, "none"


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
_CLASSIFIERS: dict[str, Callable[[str, list[str]], tuple[float, str]]] = {
    "en": _classify_en,
    "de": _classify_de,
}


def _has_more_words(sentences: list[str]) -> bool:
    """Whether the rest of a message says something (not just "lol" or an emoticon)."""
    return sum(len(_WORD.findall(s)) for s in sentences) >= _FRAGMENT_WORDS


def classify_question(text: str, language_hint: str | None = None) -> QuestionVerdict:
    """Decide whether a chat message asks for information, and why."""
    clean = normalize(text)
    language = detect_language(clean, language_hint)
    classify = _CLASSIFIERS[language]
    best_score, best_reason = 0.0, "no-cue"
    sentences = split_sentences(clean)
    if len(sentences) > 1 and _JOKE_SETUP.match(sentences[0]):
        return QuestionVerdict(False, 0.15, language, "joke")
    last = len(sentences) - 1
    for index, sentence in enumerate(sentences):
        words = _words(sentence)
        if not words:
            continue
        score, reason = classify(sentence, words)
        if reason == PROBLEM and language == "en" and not _EN_TECHNICAL.search(clean):
            score, reason = _ECHO_SCORE, "complaint"
        if reason == FRAGMENT:
            goes_on = index < last and _has_more_words(sentences[index + 1 :])
            score, reason = (_ECHO_SCORE, "echo") if goes_on else (score, "qmark")
        if score > best_score:
            best_score, best_reason = score, reason
            if score >= _CERTAIN:
                break
    return QuestionVerdict(best_score >= THRESHOLD, best_score, language, best_reason)


def is_question(text: str, language_hint: str | None = None) -> bool:
    """Shorthand for `classify_question(...).is_question`."""
    return classify_question(text, language_hint).is_question
