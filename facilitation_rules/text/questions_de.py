"""German question rules: w-questions, verb-first clauses, particles ("denn"), requests and problem reports.

Transcribed speech has no punctuation, so word order carries most of the signal: a finite verb before its
subject, a w-word before a finite verb, tag particles ("ne", "gell") after a full clause, and clause restarts
("ja, haben Sie ...") where the question begins mid-utterance.
"""

from __future__ import annotations

import re

from facilitation_rules.text.clauses import (
    FRAGMENT_WORDS,
    THRESHOLD,
    ends_with_qmark,
    has_any,
    phrases,
    strip_leaders,
    word_list,
    wordset,
)

_DE_OPINION = re.compile(r"(?:ich )?(?:glaube|denke|finde|schätze)\b")
_DE_DIRECTIVE = re.compile(r"(?:wie wär(?:e|s|'s) es\b|lass(?:t)? uns\b)")
_DE_LEADERS = wordset(
    """
    ja also und ok okay gut na nun so äh ähm hm hmm naja tja aha achso ach oh hallo hi hey moin servus
    oder aber genau prima super schön alles klar danke gut okay ok sorry übrigens btw kurz leute zusammen
    liebe lieber xuserx moment warte hallöchen mahlzeit morgen guten tag grüß gott ihr alle noch eine frage
    """
)
_DE_WH = wordset(
    """
    was wer wen wem wessen wann wo wie warum wieso weshalb weswegen welche welcher welches welchen
    welchem wohin woher womit wozu wofür worüber worauf woran wodurch worum wovon inwiefern wieviel
    wieviele inwieweit was's wie's wo's wievielte wievielten wievielter wievieltes
    """
)
_DE_SUBJ = wordset("ich du er sie es wir ihr man jemand wer einer xuserx irgendwer irgendjemand jmd das dies der die")
_DE_PERSONAL = wordset("ich du er sie es wir ihr man")
_DE_DATIVE = wordset("mir dir ihnen euch uns ihm")
_DE_MODAL = wordset(
    """
    kann kannst können könnt könnte könntest könnten könntet soll sollst sollen sollt sollte solltest
    sollten muss musst müssen müsst müsste müssten darf darfst dürfen dürfte dürften will willst wollen
    wollt wollte wollten möchte möchtest möchten mag magst habe hab hast haben habt hat hätte hättest
    hätten hättet bin bist sind seid ist wäre wär wärst wären wärt werde wirst werden werdet wird würde
    würdest würden würdet gibt gab gäbe brauche brauchst brauchen braucht weiß weißt wisst wissen kennt
    kennst kennen geht gehts passt klappt funktioniert läuft hilft reicht stimmt meinst meint meinen
    """
)
_DE_NON_VERBS = wordset(
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
_DE_IMPERSONAL_V1 = wordset("gibt's gibts geht's gehts klappt's passt's läuft's")
_DE_FIRST_PERSON_ONLY = wordset("bin hab habe war")
_DE_ICH_QUESTION = wordset("kann soll darf muss könnte sollte dürfte müsste brauche")
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
_DE_BACKCHANNEL = phrases("""
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
    r"|\b(?:kurze|eine|noch eine|kleine|schnelle|dumme|blöde) frage\b"
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
_DE_SURPRISE = wordset("ach aha achso oh echt")
_DE_COMPARATIVE = wordset("so genauso ebenso sowie als")  # "so wie ...": comparison, not a question
_DE_DEMONSTRATIVE = wordset("dieses jenes welches meines deines seines unseres eures")
_DE_DENN_FOLLOWER = wordset(
    "ich du er sie es wir ihr man das der die den dem ein eine einen mein meine unser dann da auch"
)


# Tag particles that ask the addressee to confirm the clause before them ("der Zug fährt um acht, ne").
_DE_TAG_PARTICLES = wordset("ne gell gelle nä näh")
# Common irregular finite forms that the suffix shapes below miss ("ging", "kam").
_DE_STRONG_FINITE = wordset("war waren ging gingen kam kamen gab fuhr fuhren lief liefen blieb stand hieß tat")
# Discourse markers after which speakers restart with a new clause ("das ja, haben Sie ...").
_DE_RESTART = wordset("ja also und oder aber na gut okay ok so")
# Addressee pronouns and the verb endings that agree with them (finite verb + "Sie/du/ihr" asks them).
_DE_ADDRESSEE_AGREES: dict[str, tuple[str, ...]] = {"sie": ("en", "sind"), "du": ("st",), "ihr": ("t", "seid")}
# "Haben wir sonst noch etwas ...": an open indefinite turns a "wir" verb-first clause into a question.
_DE_OPEN_QUERY = re.compile(r"\bsonst noch\b|\birgend(?:was|etwas|welche[nmrs]?)\b")
# Prepositions that can pied-pipe a w-phrase to the front ("um wie viel Uhr", "mit wem", "an welchem Tag").
_DE_PREPOSITIONS = wordset(
    """
    um ab bis seit mit an in für von zu nach aus bei auf über unter vor hinter neben zwischen gegen ohne durch
    am im zum zur beim vom ins
    """
)
# Softeners that make a verb-first "Sie/ihr" clause an instruction ("schauen Sie mal", "kommt doch vorbei").
_DE_IMPERATIVE_SOFTENERS = wordset("mal doch bitte einfach ruhig")
_DE_PROPOSAL_VERBS = wordset("mach macht machen schlag schlagt schlagen")
# Asking someone to propose something ("machen Sie mal einen Vorschlag", "schlag du was vor").
_DE_ASK_PROPOSAL = re.compile(
    r"^(?:mach|macht|machen)(?: (?:sie|du|ihr))?(?: (?:mal|doch|bitte|gern|gerne|einfach|uns|mir|noch))* "
    r"(?:(?:einen|ein|'nen|nen|n|ihren|deinen|euren) )?(?:\w+ )?(?:vorschlag|vorschläge)\b"
    r"|^(?:schlag|schlagt|schlagen)(?: (?:sie|du|ihr))? (?:\w+ ){0,6}vor$"
)
# Declarative request with a fronted object: "den könnte ich dann von Ihnen bekommen".
_DE_GET_FROM = re.compile(
    r"\b(?:kann|könnte|dürfte|können|könnten) (?:ich|wir) (?:\w+ ){0,4}(?:von|bei) (?:ihnen|dir|euch) "
    r"(?:\w+ ){0,2}(?:bekommen|kriegen|haben|erfahren)\b"
)


def _de_v1(first: str, second: str, third: str = "") -> tuple[float, str]:
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
    if not known and second in ("sie", "ihr") and third in _DE_IMPERATIVE_SOFTENERS:
        return 0.2, "imperative"  # "schauen Sie mal", "kommt ihr doch vorbei": an instruction, not a question
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
    head, comma, rest = sentence.partition(",")
    clause = word_list(head.lower())
    if not comma or len(clause) < 3 or clause[0] not in ("wer", "was", "wen", "wem"):
        return False
    if clause[1] in _DE_FINITE_AUX or _DE_FINITE_SHAPE.match(clause[1]):
        return False  # "Wer hat, ..." / "Wer weiß, ...": the verb comes second, a question after all
    if clause[-1] in _DE_FINITE_AUX:
        return True
    # "Wer am Montag etwas nicht sieht, meldet sich …": the w-clause ends in its verb and the main clause
    # after the comma opens with one (a statement about whoever it concerns).
    main = word_list(rest.lower())
    return (
        _DE_FINITE_SHAPE.match(clause[-1]) is not None
        and bool(main)
        and (main[0] in _DE_FINITE_AUX or _DE_FINITE_SHAPE.match(main[0]) is not None)
        and not sentence.rstrip().endswith("?")
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
        if words[i] not in _DE_WH or words[i - 1] in _DE_COMPARATIVE:
            continue
        verb = words[i + 1]
        if verb in _DE_NON_VERBS:
            continue
        if verb in _DE_MODAL or _DE_FINITE_SHAPE.match(verb) is not None:
            return True
        if verb.endswith("en") and i + 2 < len(words) and words[i + 2] in ("wir", "sie"):
            return True  # "wann treffen wir uns": a plural verb before its subject
    return False


def _de_finite(word: str) -> bool:
    """Cheap guess whether a word is a finite verb (lexicon of common verbs, then the -t/-st shape)."""
    if word in _DE_MODAL or word in _DE_STRONG_FINITE:
        return True
    return _DE_FINITE_SHAPE.match(word) is not None and word not in _DE_NON_VERBS


def _de_tag_particle(words: list[str]) -> bool:
    """A clause with a finite verb closed by "ne"/"gell" seeks confirmation, unless the speaker reports on
    themselves ("dann bedanke ich mich, ne") or the clause is only a greeting or a fragment."""
    if len(words) < 3 or words[-1] not in _DE_TAG_PARTICLES or "ich" in words:
        return False
    return any(_de_finite(word) for word in words[:-1])


def _de_restart_v1(words: list[str], sentence: str) -> bool:
    """A verb-first clause addressed to the listener after a restart marker mid-utterance
    ("das ja, haben Sie da schon einen Vorschlag"). Verb and pronoun must agree, and "sie" counts only
    when the sentence spells the polite "Sie": lower-case it may be "they" ("... und haben sie verschickt")."""
    for i in range(1, len(words) - 3):
        if words[i] not in _DE_RESTART:
            continue
        verb, pronoun = words[i + 1], words[i + 2]
        endings = _DE_ADDRESSEE_AGREES.get(pronoun)
        if endings is None or verb not in _DE_MODAL or not verb.endswith(endings):
            continue
        if pronoun == "sie" and "Sie" not in sentence:
            continue
        return True
    return False


def classify_de(sentence: str, words: list[str]) -> tuple[float, str]:
    """Score one German sentence."""
    low = " ".join(words)
    core = strip_leaders(words, _DE_LEADERS)
    core_text = " ".join(core)
    qmark = ends_with_qmark(sentence)
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
    if words[0] in _DE_SURPRISE and 1 < len(core) <= FRAGMENT_WORDS:
        return 0.2, "backchannel"  # "ach, haben Sie nicht": surprised echo, not a request
    if _de_headless_relative(sentence):
        return 0.3, "wh-relative"
    score, reason = _de_syntax(core, core_text)
    if score >= THRESHOLD:
        return score, reason
    if reason == "hortative" and _DE_OPEN_QUERY.search(core_text):
        return 0.6, "verb-first"
    if core[0] in _DE_PROPOSAL_VERBS and _DE_ASK_PROPOSAL.match(core_text):
        return 0.6, "request-for-suggestion"
    if has_any(low, _DE_REQUEST_TRIGGERS) and _DE_REQUEST.search(low):
        return 0.75, "request-for-info"
    if _DE_RETURN.match(low):
        return 0.6, "return-question"
    if (len(words) > 1 or low == "oder") and _DE_TAG.search(low):
        return 0.6, "tag-question"
    if _de_tag_particle(core):
        return 0.6, "tag-question"
    if _de_restart_v1(words, sentence):
        return 0.6, "verb-first"
    if " von " in low and _DE_GET_FROM.search(low):
        return 0.6, "request-for-info"
    if _de_denn(core):
        return 0.6, "particle-denn"
    if _de_inner_wh(core):
        return 0.6, "wh-inner"
    if has_any(low, _DE_PROBLEM_TRIGGERS) and _DE_PROBLEM.search(low):
        return 0.6, "problem-report"
    return score, reason


def _de_syntax(core: list[str], core_text: str) -> tuple[float, str]:
    """Score a German clause by its opening: w-word or finite verb first."""
    if not core:
        return 0.0, "empty"
    if core[0] in _DE_WH:
        return _de_wh(core, core_text)
    if len(core) > 2 and core[0] in _DE_PREPOSITIONS and core[1] in _DE_WH and _de_fronted_w_phrase(core):
        return _de_wh(core[1:], " ".join(core[1:]))
    if len(core) > 1:
        return _de_v1(core[0], core[1], core[2] if len(core) > 2 else "")
    return 0.0, "none"


def _de_fronted_w_phrase(core: list[str]) -> bool:
    """Preposition + w-word + a verb within the next few words: "um wie viel Uhr beginnt ...".

    "wie" must be followed by its adjective ("wie lange", "wie viel"), not by another preposition as in
    the idiom "nach wie vor" ("still").
    """
    if core[1] == "wie" and core[2] in _DE_PREPOSITIONS:
        return False
    return any(w in _DE_MODAL or (_DE_VERB_SHAPE.match(w) is not None and w not in _DE_NON_VERBS) for w in core[2:5])
