"""English question rules: wh-questions, inversion, requests for information, problem reports.

Each sentence gets a score in 0..1 and a reason; `questions.classify_question` combines sentences.
"""

from __future__ import annotations

import re

from facilitation_rules.text.clauses import (
    FRAGMENT,
    FRAGMENT_WORDS,
    HANDLE,
    PROBLEM,
    THRESHOLD,
    ends_with_qmark,
    phrases,
    strip_leaders,
    word_list,
    wordset,
)

_EN_LEADERS = wordset(
    """
    well so and but oh uh um umm uhm er erm ah ahh ok okay k hey hi hello yo yeah yes yep yea ya no
    nope now then also like anyway anyways btw lol haha hehe hmm hm guys folks everyone sorry alright
    right actually basically or plus see wait sir madam dear mr mrs ms morning afternoon evening hiya
    heya heyy thanks ps all xuserx omg aw aww wow lmao rofl ehh oops hah ha man dude bro o
    """
)
_EN_WH = wordset(
    "what how why where when which who whom whose what's how's where's who's when's why's whats hows "
    "wheres whos whys wat wut y'all"
)
_EN_EXCLAMATIVE = wordset("a an nice cool great awesome lovely sweet sad funny cute beautiful wonderful")
_EN_WH_COMPLEMENTS = wordset("about if else kind sort type")
_EN_SO_INVERSION = wordset("so neither nor")  # "so do we" agrees, it does not ask
_EN_WH_CONTRACTED = wordset("what's how's where's who's when's why's whats hows wheres whos whys")
_EN_AUX = wordset(
    """
    do does did is are was were am can could will would should shall may might have has had must
    need r
    """
)
_EN_AUX_NEG = wordset(
    """
    don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't shouldn't haven't
    hasn't hadn't ain't dont doesnt didnt isnt arent wasnt werent cant couldnt wont wouldnt shouldnt
    havent hasnt
    """
)
_EN_PRONOUN_SUBJ = wordset(
    """
    i you u ya we they he she it there this that these those anyone anybody someone somebody
    everyone everybody everything anything something nothing xuserx y'all ye one people
    i'm you're we're they're it's that's there's i'll you'll
    we'll they'll i'd you'd we'd they'd he's she's i've you've we've they've
    """
)
_EN_DETERMINERS = wordset("the a an my your ur our their his her its any some all every both either no")
# Verbs that open statements ("have a look", "was a mistake") unless a pronoun follows them.
_EN_NEEDS_PRONOUN = wordset("do have had may must need am was were")
_EN_CHAT_PRONOUNS = wordset("u ya ye r ur")
_EN_CHAT_MODALS = wordset("wanna gonna gotta")  # "who wanna test it": the auxiliary is fused into the verb
_EN_ANY = wordset("any anyone anybody anything someone somebody anywhere")
_EN_FREE_CHOICE_VERBS = wordset("can will who that must should may would is are has")
_EN_PREPOSITIONS = wordset("at in on for from to with since by of until about")
_EN_ANY_NON_QUESTION = wordset(
    "time more way longer further case how thing day can could will would should must who that"
)
# "ya" alone is mostly "yeah"; only "and ya" hands the question back.
_EN_RETURN = re.compile(
    r"^(?:(?:and|what about|how about) ya|(?:(?:and|what about|how about) )?(?:you|u|yours|urself|yourself|you guys))$"
)
# A short answer handed back without "?" ("busy week and you"): the speaker asks the same of the other.
_EN_RETURN_TAIL = re.compile(
    r"^(?!.*\b(?:me|him|her|us|them|between|both) and)(?:\S+ ){1,3}and (?:you|u|yours|urself|yourself)(?: xuserx)?$"
)
# Reactions that acknowledge or express surprise; clarification requests ("what?", "pardon?", "me?")
# and summons ("yes?", "@name?") do ask for something and are not listed.
_EN_BACKCHANNEL = phrases("""
    really|oh really|right|eh|yeah|no|ok|okay|sure|seriously|is that right|is that so|
    no way|you know|y'know|lol|wtf|oh|ya|yea|yep|nope|nah|heh|hmm|hm|oh yeah|oh yes|or|
    sorry|are you serious|you serious|srsly|for real|
    oh no|oh my|is it|was it|you think|you do|true|right right|yeah right|ya think|
    did you|do you|are you|were you|oh did you|oh do you|oh are you|oh is it|oh was it|ok so|
    or something|or anything|or whatever|or so|or what not
    """)
# A question inside reported speech ("and she said, well, do we need that?") is quoted, not asked.
_EN_REPORTED = re.compile(
    r"\b(?:said|says|asked|asks|told (?:me|him|her|them|us))\s*[,:]\s*['\"“]?\s*(?:(?:well|oh|okay|ok|so),? )?"
    r"(?:do|does|did|is|are|was|were|can|could|will|would|should|have|has|what|how|why|where|when|who|which)\b"
)
# Searching for a word aloud ("in a, oh, what do you call it?") does not ask the listener anything.
_EN_WORD_SEARCH = re.compile(r"\bwhat (?:do|would) (?:you|they|we|ya) call (?:it|them|those|that|'em)$")
_EN_RHETORICAL = re.compile(
    r"^(?:who cares|who knows|who doesn't|who does that|what the (?:hell|heck|fuck|f)\b(?!.*\b(?:is|are|do"
    r"|does)\b)"
    r"|how (?:cool|nice|awesome|great|sad|funny|cute|sweet|lucky|rude|dumb|stupid|weird) (?:is that|was that)"
    r"|guess what|you know what|what do you know|am i right|are you kidding|are you serious|you kidding"
    r"|what else is new|what was i thinking|how dare|why would (?:i|anyone|you) (?:ever )?(?:want|care)"
    r"|isn't (?:it|that) "
    r"(?:great|nice|cool|funny|ironic|amazing|sweet|awesome)|what's not to (?:like|love)|why bother"
    r"|what could (?:possibly )?go wrong|who would have thought|who'd have thought|knock knock"
    r"|what do you call an? |why did the \w+ cross)"
)
# "hey team lead how r u": the greeting comes after an address the leader list cannot strip.
_EN_HOW_ARE_YOU = (" you", " u", " ya")
_EN_SMALLTALK_TAIL = re.compile(r"\bhow (?:are|r) (?:you|u|ya)$")
_EN_SMALLTALK = re.compile(
    r"^(?:how (?:are|r) (?:you|u|ya|y'all|things)|how's it going|hows it going|how are things"
    r"|how (?:you|ya|u) doin(?:g|')?|how do you do|what's up|whats up|what up|sup|wassup|how have you been"
    r"|how's everyone|how was your (?:weekend|day|holiday|vacation))\b"
)
# Requests for action, offers and suggestions are phrased as questions but ask for a deed, not for
# information ("could you pass me ...", "may I see ...", "how about a coffee?", "shall we ...").
_EN_INFO_VERBS = (
    r"(?:tell|explain|help|recommend|suggest|advise|clarify|confirm|let me know|point|share|describe|provide"
    # "give me an idea / your opinion" hands over knowledge, not an object
    r"|give (?:me |us )?(?:a |an |some |any |your |more )?(?:rough |brief |quick |short |general |little )?"
    r"(?:idea|advice|opinion|estimate|assessment|overview|example|hint|tip|feedback|summary|update|details|"
    r"information|info|explanation|answer|recommendation|reason|clue)s?\b)"
)
# "why don't you come along" suggests; with a verb of state ("why don't you like it") it asks for a reason.
_EN_STATIVE = r"(?:have|believe|know|like|want|think|understand|need|love|agree|care|trust|feel|remember)\b"
# Verbs of a physical or social deed: "can you + deed" asks someone to act ("can you set the table",
# "will you draw me a map"); ability and knowledge verbs ("can you swim", "can you see it") stay questions.
_EN_DEED_VERBS = (
    r"(?:mind|please|kindly|give|pass|bring|send|take(?! long\b)|pick|wait|hold|open|close|turn|put|fill|sign|"
    r"book|reserve|call|come|make|change|repeat|speak (?:up|louder|slow|more|to|with)|lend|hand|show|keep|move|"
    r"stop|write|spell|lower|raise|get me|get us|do me|be so kind|sit|step|follow|leave|drive|join|lock|unlock|"
    r"print|copy|check|set|fix|deliver|draw|remove|iron|weigh|handle|introduce|hang on|spare|squeeze|transfer|"
    r"let me|walk|clean|wash|carry|fetch|remind|wake|hurry|slow down|cover|save me|arrange|cancel|ring|forward|"
    r"connect me|put me|ask (?:him|her|them|someone|somebody)|tidy|feed|water|buy me|pay|prepare|be my|hang up|"
    r"come over|drop|finish|type|wrap)\b"
)
_EN_DIRECTIVE = re.compile(
    r"^(?:(?:would|could|will|can|won't) (?:you|u|ya) (?:please |kindly |just |maybe |also )?(?!(?:please |kindly )?"
    + _EN_INFO_VERBS
    + r")"
    + _EN_DEED_VERBS
    + r"|(?:could|may|can) (?:i|we) (?:please )?(?:have|see|borrow|take|get|speak|talk|try|come|sit|leave|go|"
    r"stop|meet|suggest|put|use your|ask a|know your|interrupt|offer you|interest you)\b"
    r"|may i (?!help|ask)\w+|can we \w+|shall (?:we|i) \w+|why don't (?:we|you|i) (?!"
    + _EN_STATIVE
    + r")\w+|why not (?!\?)\w+"
    r"|how about (?!(?:you|your|yours|him|her|them|they|it|that|the|its|his|their|our|my)\b)\w+"
    r"|would you like\b|would you care\b|(?:do|would) you mind\b|would it be (?:ok|okay|alright|all right|possible) "
    r"(?:if|for)\b|let's\b)"
)
# "would you like tea or coffee?" offers a choice and asks which one: that is a question.
_EN_CHOICE = re.compile(r"\b\w+ or (?!(?:not|so|something|anything|else|two|three)\b)\w+")
_EN_INDIRECT_DIRECTIVE = re.compile(
    r"\bwonder(?:ing)? (?:if|whether) (?:you|i|we|the \w+) (?:could|can|would|might) (?:please )?(?!"
    + _EN_INFO_VERBS
    + r")\w+"
)
_EN_NON_QUESTION_OPENING = re.compile(r"^\W*(?:why|what|who|how)\s*,")
_EN_LISTENER = wordset("you u ur you're youre your")
# Words after which "right" is an adjective or direction ("you're so right", "turn right"), not a tag.
_EN_NOT_BEFORE_RIGHT = wordset(
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
_EN_REQUEST_START = re.compile(
    r"(?:(?:any ?(?:one|body)|some ?(?:one|body)) (?:here |else |around |out there )?(?:know|knows|have|has|"
    r"got|tried|seen|use|using|used|familiar|experienced|able|aware|done|had|run|want|wanna|interested|"
    r"recommend|mind|can help|could help|can tell|could tell|would know|good with|working|work|running|"
    r"having|getting|seeing|else|here|around)\b"
    r"|any (?:ideas?|clues?|thoughts|suggestions?|tips|hints?|pointers?|help|advice|news|updates?|luck|"
    r"way|chance|reason|recommendations?|experience|input|feedback|progress|word|eta)\b"
    r"|(?:quick|short|small|simple|stupid|dumb|noob|newbie|silly|basic|one more|another|general) "
    r"(?:questions?|doubts?)\b|help\W*$|help me\b)"
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
    r"|\b(?:please|pls|plz|kindly) (?:help(?! yoursel)|advise|suggest|explain|clarify|let me know|share your|guide)\b"
    r"|(?<!you )\b(?:need|needs|needed|looking for|searching for|appreciate any|appreciate some"
    r"|seeking) (?:some |any |a "
    r"little |a bit of |your |a )?(?:help|advice|assistance|guidance|suggestions?|recommendations?|"
    r"pointers?|tips?|hints?|input|direction|support|documentation|docs|tutorials?|examples?)\b"
    r"|\b(?:i have|i've got|i got|i've) (?:a|one|another|some|few|a few|two|a couple of)? ?(?:quick |short |"
    r"small |simple |stupid |dumb |noob |newbie |silly |basic |general )?(?:questions?|doubts?|clarifications?)\b"
    r"|\b(?:any ?one|some ?one|any ?body|some ?body) (?:please |pls |plz )?(?:suggest|advise|explain|guide)\b"
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
    "clarification",
    "suggest",
    "advise",
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
# One scan for all trigger substrings is cheaper than testing them one by one; the large rule regexes
# then run only on sentences that contain a trigger.
_EN_REQUEST_CUE = re.compile("|".join(re.escape(t) for t in _EN_REQUEST_TRIGGERS))
_EN_PROBLEM_CUE = re.compile("|".join(re.escape(t) for t in _EN_PROBLEM_TRIGGERS))

# A problem report asks for help when it carries technical detail; "my car won't start" in small talk does not.
TECHNICAL = re.compile(
    r"(?i:error|exception|issue|bug|fail|crash|stack|traceback|caused by|unable|not able|problem|figure)"
    r"|\b(?:code|link|xuserx)\b|\w\.\w|[A-Z]\w+[A-Z]"
)


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
        if first == "any" and third in _EN_FREE_CHOICE_VERBS and second not in ("one", "body"):
            return 0.2, "free-choice"  # "any employee can apply": a statement about all of them
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


_EN_WHY_INTERJECTION = wordset("yes no sure certainly thank thanks hello hi of")
_EN_HOW_DEGREE = wordset("long much many often far old big soon")
# After "how long" + subject, these verbs mark an embedded clause; a direct question inverts them.
_EN_EMBEDDED_AUX = wordset("will would can could should is are was were am might must")


def _en_wh(first: str, second: str, third: str, words: list[str]) -> tuple[float, str]:
    """Score clauses opening with a wh-word; wh + subject pronoun is usually a free relative."""
    if first in _EN_WH_CONTRACTED:
        if second in ("more", "worse") and (third in _EN_PRONOUN_SUBJ or third in _EN_DETERMINERS):
            return 0.1, "connective"  # "what's more, the team agreed": a discourse connective
        return 0.8, "wh-start"
    if not second:
        return 0.3, "wh-alone"
    if first == "why" and second in _EN_WHY_INTERJECTION:
        return 0.1, "interjection"  # "why yes, I did": surprise, not a question
    if first == "whose" and (second in _EN_DETERMINERS or second in _EN_PRONOUN_SUBJ):
        return 0.8, "wh-start"  # chat spelling of "who's": "whose the new lead"
    if (
        first == "how"
        and len(words) > 3
        and third in _EN_PRONOUN_SUBJ
        and words[3] in _EN_EMBEDDED_AUX
        and second in _EN_HOW_DEGREE
    ):
        return 0.3, "wh-subordinate"  # "how long it will take depends on ...": subject before verb
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
    if len(core) > FRAGMENT_WORDS or HANDLE in core or not any(w.isalpha() for w in core):
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


def _en_directive(sentence: str, core_text: str, low: str, qmark: bool) -> bool:
    """A request for a deed, an offer or a suggestion, not a request for information.

    The request may follow a vocative or a preface ("nurse, could you ...", "sorry, but can you ...",
    "if it's noisy, could you ..."), so each comma clause is tried. An offer of alternatives ("would you
    like tea or coffee?") asks the listener to choose and stays a question.
    """
    if _EN_DIRECTIVE.match(core_text):
        found = True
    elif "wonder" in low and _EN_INDIRECT_DIRECTIVE.search(low):
        return True
    elif qmark and "," in sentence:
        found = any(
            _EN_DIRECTIVE.match(" ".join(strip_leaders(word_list(part), _EN_LEADERS)))
            for part in sentence.split(",")[1:]
            if part.strip()
        )
    else:
        return False
    return found and not (qmark and " or " in low and _EN_CHOICE.search(low))


def classify_en(sentence: str, words: list[str]) -> tuple[float, str]:
    """Score one English sentence."""
    low = " ".join(words)
    core = strip_leaders(words, _EN_LEADERS)
    core_text = " ".join(core)
    qmark = ends_with_qmark(sentence)
    if sentence.startswith("--"):
        return 0.3, "continuation"  # transcribed speech: the rest of an utterance the other speaker interrupted
    if len(core) == 3 and core[2] == "really" and core[0] in _EN_AUX and core[1] in _EN_PRONOUN_SUBJ:
        return 0.2, "backchannel"  # "oh, does he really?": surprise at what was just said
    if _EN_RHETORICAL.match(core_text) or (qmark and _EN_OPINION.match(core_text)):
        return 0.15, "rhetorical"
    if "call" in low and _EN_WORD_SEARCH.search(low):
        return 0.2, "word-search"
    if ("said" in low or " ask" in low or " says" in low or " told" in low) and _EN_REPORTED.search(sentence.lower()):
        return 0.3, "reported-speech"
    if _en_directive(sentence, core_text, low, qmark):
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
    if _EN_SMALLTALK.match(core_text) or (low.endswith(_EN_HOW_ARE_YOU) and _EN_SMALLTALK_TAIL.search(low)):
        return 0.55, "small-talk"
    if (
        len(core) < len(words)
        and words[len(words) - len(core) - 1] == HANDLE
        and core[0] in _EN_AUX
        and (len(core) < 2 or core[1] not in _EN_PRONOUN_SUBJ)
    ):
        return 0.1, "statement-opening"  # "@ann has a point": the handle is the subject
    score, reason = _en_syntax(core)
    before_core = words[len(words) - len(core) - 1] if len(core) < len(words) else ""
    if _EN_NON_QUESTION_OPENING.match(sentence.lower()) or (
        (words[0] in _EN_SO_INVERSION or before_core == "so") and len(core) < 4
    ):
        score, reason = 0.1, "statement-opening"  # "yeah, so did she": agreement, not a question
    elif reason == "wh-alone" and not sentence.endswith((",", "-")):
        score = 0.6  # a lone "what" or "why..." in chat asks; "what," in speech trails off
    elif sentence.endswith("!") and score >= THRESHOLD:
        score, reason = 0.4, "exclamation"
    if score >= THRESHOLD:
        return score, reason
    if _EN_REQUEST_START.match(core_text) or (_EN_REQUEST_CUE.search(low) and _EN_REQUEST.search(low)):
        return 0.75, "request-for-info"
    trails_off = sentence.endswith((",", "-", "."))  # speech that breaks off, or a statement's full stop
    if not trails_off and (_EN_RETURN.match(low) or _EN_RETURN_TAIL.match(low)):
        return 0.6, "return-question"
    if len(words) > 3 and not sentence.endswith(",") and _EN_TAG.search(sentence[-24:].lower()):
        return 0.6, "tag-question"
    if words[-1] == "right" and not sentence.endswith(".") and _en_bare_right_tag(words):
        return 0.6, "tag-question"
    if _EN_PROBLEM_CUE.search(low) and _EN_PROBLEM.search(low):
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
    words = word_list(sentence.rpartition(",")[2])
    return (
        len(words) > 1
        and words[0] in _EN_WH
        and words[0] not in ("which", "who", "whom", "whose")
        and (words[1] in _EN_AUX or words[1] in _EN_CHAT_PRONOUNS)
    )
