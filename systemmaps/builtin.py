"""The built-in templates: ready-made maps of common business systems.

Each template is a valid graph document (schema v1) that lints without errors, laid
out left to right on a grid so it reads well before any automatic layout. Step
labels are data copied into the owner's map, so they stay in English here; the
template's name and description are shown in the picker and are translated.

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
    product: str
    description_en: str
    graph: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return gettext(self.name_en)

    @property
    def description(self) -> str:
        return gettext(self.description_en)

    def copy_graph(self) -> dict[str, Any]:
        return copy.deepcopy(self.graph)


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
        product=product,
        description_en=description,
        graph=_graph(name, steps, arrows, notes or {}),
    )


WEBINAR = _template(
    key="webinar",
    name=gettext_noop("Webinar to client"),
    half=Half.MARKETING.value,
    product="Consulting services",
    description=gettext_noop(
        "A webinar brings prospects into an email nurture campaign that leads to a "
        "consultation and a proposal. Use it for a service sold after a personal "
        "conversation."
    ),
    steps=[
        ("webinar", TERMINUS, "Webinar", "know", 0, 0),
        ("nurture", TASK, "Email nurture campaign", "like", 1, 0),
        ("booked", DECISION, "Booked a consultation?", "trust", 2, 0),
        ("consultation", TASK, "Consultation call", "try", 3, -1),
        ("proposal", TASK, "Proposal sent", "try", 4, -1),
        ("signed", DECISION, "Signed?", "try", 5, -1),
        ("onboard", TERMINUS, "Onboard new client", None, 6, -1),
        ("downsell", TASK, "Down-sell campaign", "try", 3, 1),
        ("bucket", TERMINUS, "Future email automation bucket", "like", 4, 1),
    ],
    arrows=[
        ("webinar", "nurture"),
        ("nurture", "booked"),
        ("booked", "consultation", "yes"),
        ("booked", "downsell", "no"),
        ("downsell", "bucket"),
        ("consultation", "proposal"),
        ("proposal", "signed"),
        ("signed", "onboard", "yes"),
        ("signed", "nurture", "no"),
    ],
    notes={
        "consultation": "Critical step: follow the call checklist and send the "
        "proposal within two working days.",
        "onboard": "Hand-off to the operations system: the client onboarding map "
        "starts here.",
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
        ("plan", TERMINUS, "Lead generation plan for the quarter", "know", 0, 0),
        ("persona", TASK, "Define the buyer persona", "know", 1, 0),
        ("attract", TASK, "Attract prospects with a gated lead magnet", "know", 2, 0),
        ("details", DECISION, "Left contact details?", "like", 3, 0),
        ("retarget", TASK, "Retarget visitors with ads", "know", 3, 1),
        ("engage", TASK, "Invite the lead to book a free demo", "like", 4, 0),
        ("score", TASK, "Score fit against the persona", "trust", 5, 0),
        ("fits", DECISION, "Fits the persona?", "trust", 6, 0),
        ("sales", TERMINUS, "Hand the qualified lead to sales", "try", 7, -1),
        ("nurture", TERMINUS, "Add to the lead nurturing list", "like", 7, 1),
    ],
    arrows=[
        ("plan", "persona"),
        ("persona", "attract"),
        ("attract", "details"),
        ("details", "engage", "yes"),
        ("details", "retarget", "no"),
        ("retarget", "attract"),
        ("engage", "score"),
        ("score", "fits"),
        ("fits", "sales", "yes"),
        ("fits", "nurture", "no"),
    ],
    notes={
        "persona": "Demographics, psychographics and the problem they want solved. "
        "Revisit it every quarter.",
        "score": "Critical step: compare pages read, emails clicked and replies "
        "with the behaviour of your best customers.",
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
        ("goal", TERMINUS, "Campaign goal and budget set", "know", 0, 0),
        ("keywords", TASK, "Research keywords for the target audience", "know", 1, 0),
        ("bids", TASK, "Set bids per keyword", "know", 2, 0),
        ("ad", TASK, "Write the ad headline and description", "know", 3, 0),
        ("landing", TASK, "Build the landing page", "like", 4, 0),
        ("launch", TASK, "Launch the campaign", "know", 5, 0),
        ("quality", DECISION, "Quality Score acceptable?", None, 6, 0),
        ("improve", TASK, "Improve keyword relevance and the page", "know", 6, 1),
        ("converting", DECISION, "Visitors converting to leads?", "like", 7, 0),
        ("abtest", TASK, "A/B test the landing page", "like", 7, 1),
        ("leads", TERMINUS, "New leads enter lead nurturing", "like", 8, 0),
    ],
    arrows=[
        ("goal", "keywords"),
        ("keywords", "bids"),
        ("bids", "ad"),
        ("ad", "landing"),
        ("landing", "launch"),
        ("launch", "quality"),
        ("quality", "converting", "yes"),
        ("quality", "improve", "no"),
        ("improve", "bids"),
        ("converting", "leads", "yes"),
        ("converting", "abtest", "no"),
        ("abtest", "launch"),
    ],
    notes={
        "keywords": "Critical step: relevance is half the battle. The more popular "
        "the keyword, the higher the bid.",
        "landing": "Prove expertise and trust: one offer, one form, a headline that "
        "matches the ad.",
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
        ("captured", TERMINUS, "New lead captured", "like", 0, 0),
        ("segment", TASK, "Segment by industry, role and sales stage", "like", 1, 0),
        ("score", TASK, "Score fit and engagement", "trust", 2, 0),
        ("ready", DECISION, "Ready to buy?", "trust", 3, 0),
        ("sales", TERMINUS, "Hand over to sales as a qualified lead", "try", 4, -1),
        ("personalise", TASK, "Send personalised content", "trust", 4, 1),
        ("profile", TASK, "Ask one more profile question", "trust", 5, 1),
        ("engaged", DECISION, "Engaged with the content?", "trust", 6, 1),
        ("newsletter", TERMINUS, "Move to the monthly newsletter", "like", 7, 1),
    ],
    arrows=[
        ("captured", "segment"),
        ("segment", "score"),
        ("score", "ready"),
        ("ready", "sales", "yes"),
        ("ready", "personalise", "no"),
        ("personalise", "profile"),
        ("profile", "engaged"),
        ("engaged", "score", "yes"),
        ("engaged", "newsletter", "no"),
    ],
    notes={
        "score": "Critical step: points for fit with the ideal customer plus "
        "engagement (opens, clicks, pages visited). Agree the sales threshold "
        "with sales.",
        "personalise": "E-book, webinar or course matched to the segment; use the "
        "lead's name and company.",
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
        ("plan", TERMINUS, "Social media plan for the quarter", "know", 0, 0),
        ("audience", TASK, "Research the audience", "know", 1, 0),
        ("platforms", TASK, "Choose the platforms", "know", 2, 0),
        ("kpis", TASK, "Set the KPIs: reach, engagement, site visits", "know", 3, 0),
        ("create", TASK, "Create useful, engaging content", "like", 4, 0),
        ("publish", TASK, "Publish on the content calendar", "like", 5, 0),
        ("reply", TASK, "Reply to comments and messages", "like", 6, 0),
        ("on_track", DECISION, "KPIs on track?", None, 7, 0),
        ("adjust", TASK, "Adjust the content mix", "like", 7, 1),
        ("report", TERMINUS, "Report to the weekly review", None, 8, 0),
    ],
    arrows=[
        ("plan", "audience"),
        ("audience", "platforms"),
        ("platforms", "kpis"),
        ("kpis", "create"),
        ("create", "publish"),
        ("publish", "reply"),
        ("reply", "on_track"),
        ("on_track", "report", "yes"),
        ("on_track", "adjust", "no"),
        ("adjust", "create"),
    ],
    notes={
        "create": "Critical step: test formats (user-generated content, contests, "
        "live video) and keep what the audience answers.",
        "reply": "Consistency builds the relationship: answer within one working day.",
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
        ("brief", TERMINUS, "Content idea or brief", "know", 0, 0),
        ("plan", TASK, "Plan the topic against the content strategy", "know", 1, 0),
        ("write", TASK, "Write and edit the draft", "know", 2, 0),
        ("design", TASK, "Design graphics and video", "know", 3, 0),
        ("approved", DECISION, "Approved by the editor?", None, 4, 0),
        ("publish", TASK, "Schedule and publish", "know", 5, 0),
        ("promote", TASK, "Promote on social media and the newsletter", "know", 6, 0),
        ("measure", TASK, "Measure traffic, leads and shares", "like", 7, 0),
        ("target", DECISION, "Met the target after 30 days?", None, 8, 0),
        ("library", TERMINUS, "Add to the evergreen library", "like", 9, 0),
        ("repurpose", TASK, "Update or repurpose the piece", "know", 8, 1),
    ],
    arrows=[
        ("brief", "plan"),
        ("plan", "write"),
        ("write", "design"),
        ("design", "approved"),
        ("approved", "publish", "yes"),
        ("approved", "write", "no"),
        ("publish", "promote"),
        ("promote", "measure"),
        ("measure", "target"),
        ("target", "library", "yes"),
        ("target", "repurpose", "no"),
        ("repurpose", "publish"),
    ],
    notes={
        "approved": "Final checkpoint: facts, tone, call to action and the link to "
        "the lead magnet.",
        "measure": "Critical step: record the numbers every week so the review "
        "meeting sees which pieces bring leads.",
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
        ("signed", TERMINUS, "Contract signed", "buy", 0, 0),
        ("welcome", TASK, "Send the welcome pack and intake form", "buy", 1, 0),
        ("intake", DECISION, "Intake form complete?", "buy", 2, 0),
        ("chase", TASK, "Chase the missing information", "buy", 2, 1),
        ("account", TASK, "Create the client account and folders", "buy", 3, 0),
        ("kickoff", TASK, "Kickoff call: goals and success criteria", "buy", 4, 0),
        ("quick_win", TASK, "Deliver the first quick win", "buy", 5, 0),
        ("check_in", TASK, "30-day check-in call", "repeat", 6, 0),
        ("happy", DECISION, "Client happy?", "repeat", 7, 0),
        ("fix", TASK, "Fix the issues with the account lead", "repeat", 7, 1),
        ("handover", TERMINUS, "Hand over to account management", "repeat", 8, 0),
    ],
    arrows=[
        ("signed", "welcome"),
        ("welcome", "intake"),
        ("intake", "account", "yes"),
        ("intake", "chase", "no"),
        ("chase", "intake"),
        ("account", "kickoff"),
        ("kickoff", "quick_win"),
        ("quick_win", "check_in"),
        ("check_in", "happy"),
        ("happy", "handover", "yes"),
        ("happy", "fix", "no"),
        ("fix", "check_in"),
    ],
    notes={
        "kickoff": "Critical step: agree the first measurable result and its date, "
        "and write it down where the team can see it.",
        "welcome": "Short how-to video, first login and who to call for help.",
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
        ("delivered", TERMINUS, "Project delivered", "buy", 0, 0),
        ("survey", TASK, "Send the satisfaction survey (NPS)", "refer", 1, 0),
        ("promoter", DECISION, "Score of 9 or 10?", "refer", 2, 0),
        ("call", TASK, "Call the client about the feedback", "repeat", 3, 1),
        ("improve", TERMINUS, "Log improvements for the quarterly plan", None, 4, 1),
        ("ask", TASK, "Ask for a review and a referral", "refer", 3, 0),
        ("received", DECISION, "Referral received within 30 days?", "refer", 4, 0),
        ("newsletter", TERMINUS, "Keep in the client newsletter", "repeat", 5, 1),
        ("reward", TASK, "Thank the referrer and send the reward", "refer", 5, 0),
        ("contact", TASK, "Contact the referred prospect in 48 hours", "refer", 6, 0),
        ("lead", TERMINUS, "Referred lead enters the sales system", "refer", 7, 0),
    ],
    arrows=[
        ("delivered", "survey"),
        ("survey", "promoter"),
        ("promoter", "ask", "yes"),
        ("promoter", "call", "no"),
        ("call", "improve"),
        ("ask", "received"),
        ("received", "reward", "yes"),
        ("received", "newsletter", "no"),
        ("reward", "contact"),
        ("contact", "lead"),
    ],
    notes={
        "ask": "Critical step: make it easy with a ready-to-forward introduction "
        "email and a direct link to the review page.",
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
        ("delivered", TERMINUS, "First order delivered", "buy", 0, 0),
        ("thanks", TASK, "Send thank-you and usage tips", "repeat", 1, 0),
        ("reminder", TASK, "Reorder reminder before it runs out", "repeat", 2, 0),
        ("recommend", TASK, "Recommend a complementary product", "repeat", 3, 0),
        ("bought", DECISION, "Bought again within 60 days?", "repeat", 4, 0),
        ("loyalty", TASK, "Enrol in the loyalty programme", "repeat", 5, -1),
        ("referral", TERMINUS, "Invite to the referral programme", "refer", 6, -1),
        ("winback", TASK, "Send a win-back offer", "repeat", 5, 1),
        ("responded", DECISION, "Used the offer?", "repeat", 6, 1),
        ("lapsed", TERMINUS, "Mark as a lapsed customer", None, 7, 1),
    ],
    arrows=[
        ("delivered", "thanks"),
        ("thanks", "reminder"),
        ("reminder", "recommend"),
        ("recommend", "bought"),
        ("bought", "loyalty", "yes"),
        ("bought", "winback", "no"),
        ("loyalty", "referral"),
        ("winback", "responded"),
        ("responded", "loyalty", "yes"),
        ("responded", "lapsed", "no"),
    ],
    notes={
        "reminder": "Critical step: time it from the usual reorder interval of the "
        "product; automate it.",
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
