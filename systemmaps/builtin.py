"""The built-in templates: ready-made maps of common business systems.

Each template is a valid graph document (schema v1) that lints without errors, laid
out left to right on a grid so it reads well before any automatic layout. Step
labels, notes and arrow labels are marked for translation (`gettext_noop`) and kept
in English here; `copy_graph()` gives them in the active language, so a map made
from a template starts in its owner's language, and the picker shows the name and
description translated.

`Template.graph` is shared by every caller: copy it (`template.copy_graph()`)
before changing it.
"""

import copy
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_noop

from hourglass.models import STAGE_ORDER, Half

from .document import COLUMN, DECISION, ROW, SCHEMA_VERSION, TASK, TERMINUS

# The grid the hand-made layouts sit on: a column apart, branches one row above
# or below the main line (document.COLUMN and ROW).
ORIGIN_X = 80
ORIGIN_Y = 200

# (id, kind, label, stage, column, row)
Step = tuple[str, str, str, str | None, int, int]
# (source, target) or (source, target, label)
Arrow = tuple[str, str] | tuple[str, str, str]


@dataclass(frozen=True)
class Template:
    key: str
    # English; `name` and `description` give them in the active language as
    # plain str (not lazy objects), safe to store or to put in a graph document.
    name_en: str
    half: str
    stages: list[str]
    product_en: str
    description_en: str
    graph: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return gettext(self.name_en)

    @property
    def description(self) -> str:
        return gettext(self.description_en)

    @property
    def product(self) -> str:
        return gettext(self.product_en) if self.product_en else ""

    def copy_graph(self) -> dict[str, Any]:
        """A copy of the graph in the active language: its name, step labels,
        notes and arrow labels, as the owner's new map starts."""
        graph = copy.deepcopy(self.graph)
        graph["name"] = self.name
        for node in graph["nodes"]:
            node["label"] = gettext(node["label"])
            if node["notes"]:
                node["notes"] = gettext(node["notes"])
        for edge in graph["edges"]:
            if edge["label"]:
                edge["label"] = gettext(edge["label"])
        return graph


def _graph(
    name: str, steps: list[Step], arrows: list[Arrow], notes: dict[str, str]
) -> dict[str, Any]:
    nodes = [
        {
            "id": node_id,
            "kind": kind,
            "label": label,
            "x": float(ORIGIN_X + column * COLUMN),
            "y": float(ORIGIN_Y + row * ROW),
            "stage": stage,
            "notes": notes.get(node_id),
        }
        for node_id, kind, label, stage, column, row in steps
    ]
    edges = [
        {
            "id": f"e{index}",
            "source": arrow[0],
            "target": arrow[1],
            "label": arrow[2] if len(arrow) == 3 else None,
        }
        for index, arrow in enumerate(arrows, start=1)
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "nodes": nodes,
        "edges": edges,
    }


def _template(
    *,
    key: str,
    name: str,
    half: str,
    product: str = "",
    description: str,
    steps: list[Step],
    arrows: list[Arrow],
    notes: dict[str, str] | None = None,
) -> Template:
    used = {step[3] for step in steps}
    return Template(
        key=key,
        # Marked with gettext_noop below so that makemessages finds them.
        name_en=name,
        half=half,
        stages=[stage for stage in STAGE_ORDER if stage in used],
        product_en=product,
        description_en=description,
        graph=_graph(name, steps, arrows, notes or {}),
    )


WEBINAR = _template(
    key="webinar",
    name=gettext_noop("Webinar to client"),
    half=Half.MARKETING.value,
    product=gettext_noop("Consulting services"),
    description=gettext_noop(
        "A webinar brings prospects into an email nurture campaign that leads to a "
        "consultation and a proposal. Use it for a service sold after a personal "
        "conversation."
    ),
    steps=[
        ("webinar", TERMINUS, gettext_noop("Webinar"), "know", 0, 0),
        ("nurture", TASK, gettext_noop("Email nurture campaign"), "like", 1, 0),
        ("booked", DECISION, gettext_noop("Booked a consultation?"), "trust", 2, 0),
        ("consultation", TASK, gettext_noop("Consultation call"), "try", 3, -1),
        ("proposal", TASK, gettext_noop("Proposal sent"), "try", 4, -1),
        ("signed", DECISION, gettext_noop("Signed?"), "try", 5, -1),
        ("onboard", TERMINUS, gettext_noop("Onboard new client"), None, 6, -1),
        ("downsell", TASK, gettext_noop("Down-sell campaign"), "try", 3, 1),
        (
            "bucket",
            TERMINUS,
            gettext_noop("Future email automation bucket"),
            "like",
            4,
            1,
        ),
    ],
    arrows=[
        ("webinar", "nurture"),
        ("nurture", "booked"),
        ("booked", "consultation", gettext_noop("yes")),
        ("booked", "downsell", gettext_noop("no")),
        ("downsell", "bucket"),
        ("consultation", "proposal"),
        ("proposal", "signed"),
        ("signed", "onboard", gettext_noop("yes")),
        ("signed", "nurture", gettext_noop("no")),
    ],
    notes={
        "consultation": gettext_noop(
            "Critical step: follow the call checklist and send the "
            "proposal within two working days."
        ),
        "onboard": gettext_noop(
            "Hand-off to the operations system: the client onboarding map starts here."
        ),
    },
)

LEAD_GENERATION = _template(
    key="lead-generation",
    name=gettext_noop("Lead generation"),
    half=Half.MARKETING.value,
    description=gettext_noop(
        "Define the buyer persona, attract prospects who match it, engage them and "
        "qualify them before sales steps in. Use it to turn traffic into qualified "
        "leads, inbound or outbound."
    ),
    steps=[
        (
            "plan",
            TERMINUS,
            gettext_noop("Lead generation plan for the quarter"),
            "know",
            0,
            0,
        ),
        ("persona", TASK, gettext_noop("Define the buyer persona"), "know", 1, 0),
        (
            "attract",
            TASK,
            gettext_noop("Attract prospects with a gated lead magnet"),
            "know",
            2,
            0,
        ),
        ("details", DECISION, gettext_noop("Left contact details?"), "like", 3, 0),
        ("retarget", TASK, gettext_noop("Retarget visitors with ads"), "know", 3, 1),
        (
            "engage",
            TASK,
            gettext_noop("Invite the lead to book a free demo"),
            "like",
            4,
            0,
        ),
        ("score", TASK, gettext_noop("Score fit against the persona"), "trust", 5, 0),
        ("fits", DECISION, gettext_noop("Fits the persona?"), "trust", 6, 0),
        (
            "sales",
            TERMINUS,
            gettext_noop("Hand the qualified lead to sales"),
            "try",
            7,
            -1,
        ),
        (
            "nurture",
            TERMINUS,
            gettext_noop("Add to the lead nurturing list"),
            "like",
            7,
            1,
        ),
    ],
    arrows=[
        ("plan", "persona"),
        ("persona", "attract"),
        ("attract", "details"),
        ("details", "engage", gettext_noop("yes")),
        ("details", "retarget", gettext_noop("no")),
        ("retarget", "attract"),
        ("engage", "score"),
        ("score", "fits"),
        ("fits", "sales", gettext_noop("yes")),
        ("fits", "nurture", gettext_noop("no")),
    ],
    notes={
        "persona": gettext_noop(
            "Demographics, psychographics and the problem they want solved. "
            "Revisit it every quarter."
        ),
        "score": gettext_noop(
            "Critical step: compare pages read, emails clicked and replies "
            "with the behaviour of your best customers."
        ),
    },
)

PPC_CAMPAIGN = _template(
    key="ppc-campaign",
    name=gettext_noop("Pay-per-click campaign"),
    half=Half.MARKETING.value,
    description=gettext_noop(
        "Choose keywords, set bids, write the ad and build its landing page, then "
        "watch Quality Score and conversions. Use it for paid search or paid social "
        "campaigns."
    ),
    steps=[
        ("goal", TERMINUS, gettext_noop("Campaign goal and budget set"), "know", 0, 0),
        (
            "keywords",
            TASK,
            gettext_noop("Research keywords for the target audience"),
            "know",
            1,
            0,
        ),
        ("bids", TASK, gettext_noop("Set bids per keyword"), "know", 2, 0),
        (
            "ad",
            TASK,
            gettext_noop("Write the ad headline and description"),
            "know",
            3,
            0,
        ),
        ("landing", TASK, gettext_noop("Build the landing page"), "like", 4, 0),
        ("launch", TASK, gettext_noop("Launch the campaign"), "know", 5, 0),
        ("quality", DECISION, gettext_noop("Quality Score acceptable?"), None, 6, 0),
        (
            "improve",
            TASK,
            gettext_noop("Improve keyword relevance and the page"),
            "know",
            6,
            1,
        ),
        (
            "converting",
            DECISION,
            gettext_noop("Visitors converting to leads?"),
            "like",
            7,
            0,
        ),
        ("abtest", TASK, gettext_noop("A/B test the landing page"), "like", 7, 1),
        (
            "leads",
            TERMINUS,
            gettext_noop("New leads enter lead nurturing"),
            "like",
            8,
            0,
        ),
    ],
    arrows=[
        ("goal", "keywords"),
        ("keywords", "bids"),
        ("bids", "ad"),
        ("ad", "landing"),
        ("landing", "launch"),
        ("launch", "quality"),
        ("quality", "converting", gettext_noop("yes")),
        ("quality", "improve", gettext_noop("no")),
        ("improve", "bids"),
        ("converting", "leads", gettext_noop("yes")),
        ("converting", "abtest", gettext_noop("no")),
        ("abtest", "launch"),
    ],
    notes={
        "keywords": gettext_noop(
            "Critical step: relevance is half the battle. The more popular "
            "the keyword, the higher the bid."
        ),
        "landing": gettext_noop(
            "Prove expertise and trust: one offer, one form, a headline that "
            "matches the ad."
        ),
    },
)

LEAD_NURTURING = _template(
    key="lead-nurturing",
    name=gettext_noop("Lead nurturing"),
    half=Half.MARKETING.value,
    description=gettext_noop(
        "Segment new leads, score them, send personalised content and ask one more "
        "question each time until they are ready for sales. Use it for leads who "
        "are not ready to buy yet."
    ),
    steps=[
        ("captured", TERMINUS, gettext_noop("New lead captured"), "like", 0, 0),
        (
            "segment",
            TASK,
            gettext_noop("Segment by industry, role and sales stage"),
            "like",
            1,
            0,
        ),
        ("score", TASK, gettext_noop("Score fit and engagement"), "trust", 2, 0),
        ("ready", DECISION, gettext_noop("Ready to buy?"), "trust", 3, 0),
        (
            "sales",
            TERMINUS,
            gettext_noop("Hand over to sales as a qualified lead"),
            "try",
            4,
            -1,
        ),
        ("personalise", TASK, gettext_noop("Send personalised content"), "trust", 4, 1),
        ("profile", TASK, gettext_noop("Ask one more profile question"), "trust", 5, 1),
        ("engaged", DECISION, gettext_noop("Engaged with the content?"), "trust", 6, 1),
        (
            "newsletter",
            TERMINUS,
            gettext_noop("Move to the monthly newsletter"),
            "like",
            7,
            1,
        ),
    ],
    arrows=[
        ("captured", "segment"),
        ("segment", "score"),
        ("score", "ready"),
        ("ready", "sales", gettext_noop("yes")),
        ("ready", "personalise", gettext_noop("no")),
        ("personalise", "profile"),
        ("profile", "engaged"),
        ("engaged", "score", gettext_noop("yes")),
        ("engaged", "newsletter", gettext_noop("no")),
    ],
    notes={
        "score": gettext_noop(
            "Critical step: points for fit with the ideal customer plus "
            "engagement (opens, clicks, pages visited). Agree the sales threshold "
            "with sales."
        ),
        "personalise": gettext_noop(
            "E-book, webinar or course matched to the segment; use the "
            "lead's name and company."
        ),
    },
)

SOCIAL_MEDIA = _template(
    key="social-media",
    name=gettext_noop("Social media marketing"),
    half=Half.MARKETING.value,
    description=gettext_noop(
        "Research the audience, choose platforms and KPIs, then create and publish "
        "content on a steady rhythm and adjust it to the numbers. Use it to build "
        "awareness and a community."
    ),
    steps=[
        (
            "plan",
            TERMINUS,
            gettext_noop("Social media plan for the quarter"),
            "know",
            0,
            0,
        ),
        ("audience", TASK, gettext_noop("Research the audience"), "know", 1, 0),
        ("platforms", TASK, gettext_noop("Choose the platforms"), "know", 2, 0),
        (
            "kpis",
            TASK,
            gettext_noop("Set the KPIs: reach, engagement, site visits"),
            "know",
            3,
            0,
        ),
        ("create", TASK, gettext_noop("Create useful, engaging content"), "like", 4, 0),
        (
            "publish",
            TASK,
            gettext_noop("Publish on the content calendar"),
            "like",
            5,
            0,
        ),
        ("reply", TASK, gettext_noop("Reply to comments and messages"), "like", 6, 0),
        ("on_track", DECISION, gettext_noop("KPIs on track?"), None, 7, 0),
        ("adjust", TASK, gettext_noop("Adjust the content mix"), "like", 7, 1),
        ("report", TERMINUS, gettext_noop("Report to the weekly review"), None, 8, 0),
    ],
    arrows=[
        ("plan", "audience"),
        ("audience", "platforms"),
        ("platforms", "kpis"),
        ("kpis", "create"),
        ("create", "publish"),
        ("publish", "reply"),
        ("reply", "on_track"),
        ("on_track", "report", gettext_noop("yes")),
        ("on_track", "adjust", gettext_noop("no")),
        ("adjust", "create"),
    ],
    notes={
        "create": gettext_noop(
            "Critical step: test formats (user-generated content, contests, "
            "live video) and keep what the audience answers."
        ),
        "reply": gettext_noop(
            "Consistency builds the relationship: answer within one working day."
        ),
    },
)

CONTENT_MARKETING = _template(
    key="content-marketing",
    name=gettext_noop("Content marketing"),
    half=Half.MARKETING.value,
    description=gettext_noop(
        "Take a piece of content from plan to creation, approval, publication, "
        "distribution and measurement. Use it as the editorial workflow of the "
        "marketing team."
    ),
    steps=[
        ("brief", TERMINUS, gettext_noop("Content idea or brief"), "know", 0, 0),
        (
            "plan",
            TASK,
            gettext_noop("Plan the topic against the content strategy"),
            "know",
            1,
            0,
        ),
        ("write", TASK, gettext_noop("Write and edit the draft"), "know", 2, 0),
        ("design", TASK, gettext_noop("Design graphics and video"), "know", 3, 0),
        ("approved", DECISION, gettext_noop("Approved by the editor?"), None, 4, 0),
        ("publish", TASK, gettext_noop("Schedule and publish"), "know", 5, 0),
        (
            "promote",
            TASK,
            gettext_noop("Promote on social media and the newsletter"),
            "know",
            6,
            0,
        ),
        (
            "measure",
            TASK,
            gettext_noop("Measure traffic, leads and shares"),
            "like",
            7,
            0,
        ),
        ("target", DECISION, gettext_noop("Met the target after 30 days?"), None, 8, 0),
        (
            "library",
            TERMINUS,
            gettext_noop("Add to the evergreen library"),
            "like",
            9,
            0,
        ),
        (
            "repurpose",
            TASK,
            gettext_noop("Update or repurpose the piece"),
            "know",
            8,
            1,
        ),
    ],
    arrows=[
        ("brief", "plan"),
        ("plan", "write"),
        ("write", "design"),
        ("design", "approved"),
        ("approved", "publish", gettext_noop("yes")),
        ("approved", "write", gettext_noop("no")),
        ("publish", "promote"),
        ("promote", "measure"),
        ("measure", "target"),
        ("target", "library", gettext_noop("yes")),
        ("target", "repurpose", gettext_noop("no")),
        ("repurpose", "publish"),
    ],
    notes={
        "approved": gettext_noop(
            "Final checkpoint: facts, tone, call to action and the link to "
            "the lead magnet."
        ),
        "measure": gettext_noop(
            "Critical step: record the numbers every week so the review "
            "meeting sees which pieces bring leads."
        ),
    },
)

CLIENT_ONBOARDING = _template(
    key="client-onboarding",
    name=gettext_noop("Client onboarding"),
    half=Half.OPERATIONS.value,
    description=gettext_noop(
        "Welcome a new client, collect what you need, hold the kickoff and deliver "
        "a first quick win, then check in after 30 days. Use it for every new "
        "client or user so they see value fast."
    ),
    steps=[
        ("signed", TERMINUS, gettext_noop("Contract signed"), "buy", 0, 0),
        (
            "welcome",
            TASK,
            gettext_noop("Send the welcome pack and intake form"),
            "buy",
            1,
            0,
        ),
        ("intake", DECISION, gettext_noop("Intake form complete?"), "buy", 2, 0),
        ("chase", TASK, gettext_noop("Chase the missing information"), "buy", 2, 1),
        (
            "account",
            TASK,
            gettext_noop("Create the client account and folders"),
            "buy",
            3,
            0,
        ),
        (
            "kickoff",
            TASK,
            gettext_noop("Kickoff call: goals and success criteria"),
            "buy",
            4,
            0,
        ),
        ("quick_win", TASK, gettext_noop("Deliver the first quick win"), "buy", 5, 0),
        ("check_in", TASK, gettext_noop("30-day check-in call"), "repeat", 6, 0),
        ("happy", DECISION, gettext_noop("Client happy?"), "repeat", 7, 0),
        (
            "fix",
            TASK,
            gettext_noop("Fix the issues with the account lead"),
            "repeat",
            7,
            1,
        ),
        (
            "handover",
            TERMINUS,
            gettext_noop("Hand over to account management"),
            "repeat",
            8,
            0,
        ),
    ],
    arrows=[
        ("signed", "welcome"),
        ("welcome", "intake"),
        ("intake", "account", gettext_noop("yes")),
        ("intake", "chase", gettext_noop("no")),
        ("chase", "intake"),
        ("account", "kickoff"),
        ("kickoff", "quick_win"),
        ("quick_win", "check_in"),
        ("check_in", "happy"),
        ("happy", "handover", gettext_noop("yes")),
        ("happy", "fix", gettext_noop("no")),
        ("fix", "check_in"),
    ],
    notes={
        "kickoff": gettext_noop(
            "Critical step: agree the first measurable result and its date, "
            "and write it down where the team can see it."
        ),
        "welcome": gettext_noop(
            "Short how-to video, first login and who to call for help."
        ),
    },
)

REFERRAL_PROGRAMME = _template(
    key="referral-programme",
    name=gettext_noop("Referral programme"),
    half=Half.OPERATIONS.value,
    description=gettext_noop(
        "After delivery, measure satisfaction, ask happy clients for a review and a "
        "referral, and reward them when a referral arrives. Use it to make "
        "referrals a system rather than luck."
    ),
    steps=[
        ("delivered", TERMINUS, gettext_noop("Project delivered"), "buy", 0, 0),
        (
            "survey",
            TASK,
            gettext_noop("Send the satisfaction survey (NPS)"),
            "refer",
            1,
            0,
        ),
        ("promoter", DECISION, gettext_noop("Score of 9 or 10?"), "refer", 2, 0),
        (
            "call",
            TASK,
            gettext_noop("Call the client about the feedback"),
            "repeat",
            3,
            1,
        ),
        (
            "improve",
            TERMINUS,
            gettext_noop("Log improvements for the quarterly plan"),
            None,
            4,
            1,
        ),
        ("ask", TASK, gettext_noop("Ask for a review and a referral"), "refer", 3, 0),
        (
            "received",
            DECISION,
            gettext_noop("Referral received within 30 days?"),
            "refer",
            4,
            0,
        ),
        (
            "newsletter",
            TERMINUS,
            gettext_noop("Keep in the client newsletter"),
            "repeat",
            5,
            1,
        ),
        (
            "reward",
            TASK,
            gettext_noop("Thank the referrer and send the reward"),
            "refer",
            5,
            0,
        ),
        (
            "contact",
            TASK,
            gettext_noop("Contact the referred prospect in 48 hours"),
            "refer",
            6,
            0,
        ),
        (
            "lead",
            TERMINUS,
            gettext_noop("Referred lead enters the sales system"),
            "refer",
            7,
            0,
        ),
    ],
    arrows=[
        ("delivered", "survey"),
        ("survey", "promoter"),
        ("promoter", "ask", gettext_noop("yes")),
        ("promoter", "call", gettext_noop("no")),
        ("call", "improve"),
        ("ask", "received"),
        ("received", "reward", gettext_noop("yes")),
        ("received", "newsletter", gettext_noop("no")),
        ("reward", "contact"),
        ("contact", "lead"),
    ],
    notes={
        "ask": gettext_noop(
            "Critical step: make it easy with a ready-to-forward introduction "
            "email and a direct link to the review page."
        ),
    },
)

REPEAT_PURCHASE = _template(
    key="repeat-purchase",
    name=gettext_noop("Repeat purchase"),
    half=Half.OPERATIONS.value,
    description=gettext_noop(
        "Turn a first order into the next one: tips, a reorder reminder and a "
        "complementary offer, then a win-back offer for those who do not come back. "
        "Use it for products bought more than once."
    ),
    steps=[
        ("delivered", TERMINUS, gettext_noop("First order delivered"), "buy", 0, 0),
        ("thanks", TASK, gettext_noop("Send thank-you and usage tips"), "repeat", 1, 0),
        (
            "reminder",
            TASK,
            gettext_noop("Reorder reminder before it runs out"),
            "repeat",
            2,
            0,
        ),
        (
            "recommend",
            TASK,
            gettext_noop("Recommend a complementary product"),
            "repeat",
            3,
            0,
        ),
        (
            "bought",
            DECISION,
            gettext_noop("Bought again within 60 days?"),
            "repeat",
            4,
            0,
        ),
        (
            "loyalty",
            TASK,
            gettext_noop("Enrol in the loyalty programme"),
            "repeat",
            5,
            -1,
        ),
        (
            "referral",
            TERMINUS,
            gettext_noop("Invite to the referral programme"),
            "refer",
            6,
            -1,
        ),
        ("winback", TASK, gettext_noop("Send a win-back offer"), "repeat", 5, 1),
        ("responded", DECISION, gettext_noop("Used the offer?"), "repeat", 6, 1),
        ("lapsed", TERMINUS, gettext_noop("Mark as a lapsed customer"), None, 7, 1),
    ],
    arrows=[
        ("delivered", "thanks"),
        ("thanks", "reminder"),
        ("reminder", "recommend"),
        ("recommend", "bought"),
        ("bought", "loyalty", gettext_noop("yes")),
        ("bought", "winback", gettext_noop("no")),
        ("loyalty", "referral"),
        ("winback", "responded"),
        ("responded", "loyalty", gettext_noop("yes")),
        ("responded", "lapsed", gettext_noop("no")),
    ],
    notes={
        "reminder": gettext_noop(
            "Critical step: time it from the usual reorder interval of the "
            "product; automate it."
        ),
    },
)

TEMPLATES: list[Template] = [
    WEBINAR,
    LEAD_GENERATION,
    PPC_CAMPAIGN,
    LEAD_NURTURING,
    SOCIAL_MEDIA,
    CONTENT_MARKETING,
    CLIENT_ONBOARDING,
    REFERRAL_PROGRAMME,
    REPEAT_PURCHASE,
]

_BY_KEY = {template.key: template for template in TEMPLATES}


def get_template(key: str) -> Template | None:
    return _BY_KEY.get(key)
