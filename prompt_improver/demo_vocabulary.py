"""The demo history's vocabulary: domains, frameworks, guardrails and the usage rhythm (data only).

Read by `prompt_improver.demo`, which draws plausible records from it. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Usage rhythm: quieter weekends, business hours busiest (UTC, for a Europe/Americas mix of users).
WEEKDAY_WEIGHTS = (1.0, 1.08, 1.1, 1.05, 0.92, 0.38, 0.3)
HOUR_WEIGHTS = (
    0.12, 0.08, 0.06, 0.05, 0.06, 0.1, 0.22, 0.45, 0.8, 1.0, 1.05, 0.98,
    0.8, 0.95, 1.08, 1.1, 1.02, 0.9, 0.7, 0.55, 0.45, 0.35, 0.25, 0.17,
)

FRAMEWORKS = MappingProxyType({
    "RACE": "Role, Action, Context, Expectation",
    "CO-STAR": "Context, Objective, Style, Tone, Audience, Response",
    "RISEN": "Role, Instructions, Steps, End goal, Narrowing",
    "CRISPE": "Capacity, Insight, Statement, Personality, Experiment",
    "RTF": "Role, Task, Format",
    "TAG": "Task, Action, Goal",
    "APE": "Action, Purpose, Expectation",
    "CARE": "Context, Action, Result, Example",
    "AIDA": "Attention, Interest, Desire, Action",
    "PAS": "Problem, Agitation, Solution",
    "SCQA": "Situation, Complication, Question, Answer",
    "Chain-of-thought": "reason step by step before answering",
})

# domain: (ideas with {topic}/{audience}, topics, audiences, roles, preferred frameworks, output formats)
DOMAINS: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType({
    "software": (
        ("review my {topic} code", "explain our {topic} to {audience}", "write unit tests for the {topic} module",
         "find the bug in our {topic}", "refactor the {topic} so it is easier to maintain",
         "document the {topic} API for {audience}"),
        ("authentication service", "payment webhook handler", "CSV import", "rate limiter", "React form",
         "SQL migration", "caching layer", "retry logic", "CLI argument parser", "background job queue"),
        ("junior developers", "the code reviewers", "new team members", "the on-call engineer"),
        ("Senior software engineer", "Staff backend engineer", "Code reviewer", "Test engineer",
         "Technical writer"),
        ("RTF", "RISEN", "Chain-of-thought", "TAG"),
        ("a numbered list of findings with file and line", "a unified diff", "a Markdown document",
         "pytest test functions"),
    ),
    "data": (
        ("analyse {topic} for {audience}", "write a SQL query for {topic}", "clean the {topic} dataset",
         "build a dashboard of {topic}", "explain the drop in {topic}", "forecast {topic} for next quarter"),
        ("monthly churn", "weekly active users", "sales by region", "sensor readings", "support ticket volume",
         "conversion funnel", "inventory levels", "survey responses"),
        ("the executive team", "product managers", "the finance team", "analysts"),
        ("Data analyst", "Analytics engineer", "Data scientist", "BI developer"),
        ("SCQA", "Chain-of-thought", "RISEN", "CARE"),
        ("a SQL query with comments", "a table followed by three insights", "a short report with charts described",
         "a Python notebook outline"),
    ),
    "writing": (
        ("write a blog post about {topic}", "edit my essay on {topic}", "draft a newsletter about {topic}",
         "summarise {topic} for {audience}", "write a short story involving {topic}",
         "outline a book chapter on {topic}"),
        ("remote work", "climate adaptation", "learning a language", "open source", "urban gardening",
         "the history of typography", "burnout", "minimalism"),
        ("general readers", "teenagers", "busy professionals", "subscribers"),
        ("Editor", "Copywriter", "Ghostwriter", "Content strategist"),
        ("CO-STAR", "RACE", "CRISPE", "RTF"),
        ("about 800 words in Markdown", "an outline with headings", "three alternative drafts", "tracked edits"),
    ),
    "marketing": (
        ("write ad copy for {topic}", "plan a launch campaign for {topic}", "write emails announcing {topic}",
         "create social posts about {topic}", "write a landing page for {topic}", "suggest names for {topic}"),
        ("a budgeting app", "our new API", "a coffee subscription", "a fitness tracker", "a B2B analytics tool",
         "a summer sale", "a webinar series", "an eco-friendly detergent"),
        ("small business owners", "developers", "parents", "IT buyers"),
        ("Growth marketer", "Brand copywriter", "Product marketing manager", "Email marketing specialist"),
        ("AIDA", "PAS", "CO-STAR", "CRISPE"),
        ("five headline and body pairs", "a campaign plan in a table", "an email sequence",
         "a landing page in sections"),
    ),
    "education": (
        ("create a lesson plan on {topic}", "write quiz questions about {topic}", "explain {topic} to {audience}",
         "design a rubric for {topic}", "make flashcards for {topic}", "plan a workshop on {topic}"),
        ("photosynthesis", "fractions", "the French revolution", "recursion", "supply and demand",
         "plate tectonics", "persuasive writing", "probability"),
        ("ten-year-olds", "high school students", "first-year undergraduates", "adult learners"),
        ("Experienced teacher", "Instructional designer", "Tutor", "Curriculum developer"),
        ("RISEN", "CARE", "RTF", "TAG"),
        ("a 45-minute lesson plan", "ten multiple-choice questions with answers", "a rubric table", "a handout"),
    ),
    "research": (
        ("summarise papers on {topic}", "design an experiment about {topic}", "write a literature review of {topic}",
         "critique a study on {topic}", "draft a grant abstract on {topic}", "list open questions in {topic}"),
        ("sleep and memory", "microplastics", "large language model evaluation", "urban heat islands",
         "gut microbiome", "remote learning outcomes", "battery chemistry", "misinformation"),
        ("a review panel", "fellow researchers", "policy makers", "a general audience"),
        ("Research scientist", "Systematic reviewer", "Methodologist", "Grant writer"),
        ("SCQA", "Chain-of-thought", "RISEN", "APE"),
        ("a structured abstract", "an annotated bibliography", "a methods section", "a table of studies"),
    ),
    "operations": (
        ("write a runbook for {topic}", "plan the rollout of {topic}", "write an incident postmortem for {topic}",
         "create a checklist for {topic}", "improve our process for {topic}", "estimate capacity for {topic}"),
        ("database failover", "vendor onboarding", "quarterly planning", "warehouse picking", "on-call handover",
         "a cloud migration", "expense approvals", "hiring interviews"),
        ("the operations team", "new managers", "the leadership team", "on-call engineers"),
        ("Operations manager", "Site reliability engineer", "Process consultant", "Program manager"),
        ("RISEN", "TAG", "SCQA", "APE"),
        ("a numbered runbook", "a checklist", "a blameless postmortem", "a RACI table"),
    ),
    "legal": (
        ("summarise {topic}", "draft a clause about {topic}", "explain {topic} to {audience}",
         "list the risks in {topic}", "compare two versions of {topic}", "prepare questions about {topic}"),
        ("our data processing agreement", "an NDA", "a software licence", "an employment contract",
         "our privacy policy", "the terms of service", "a supplier contract", "our GDPR obligations"),
        ("a startup founder", "non-lawyers", "the procurement team", "the board"),
        ("Contract lawyer", "Privacy counsel", "Paralegal", "Compliance officer"),
        ("SCQA", "RTF", "CARE", "Chain-of-thought"),
        ("a plain-language summary with clause references", "a risk table", "a redline suggestion", "a memo"),
    ),
    "support": (
        ("reply to a customer about {topic}", "write a help article on {topic}", "create macros for {topic}",
         "de-escalate a complaint about {topic}", "summarise tickets about {topic}", "write an FAQ on {topic}"),
        ("a late delivery", "a double charge", "password reset", "a missing feature", "account deletion",
         "a failed export", "a refund request", "slow performance"),
        ("an angry customer", "a first-time user", "an enterprise admin", "the support team"),
        ("Customer support lead", "Support agent", "Technical support engineer", "Knowledge-base editor"),
        ("CARE", "PAS", "RTF", "RACE"),
        ("a reply under 150 words", "a help article with steps", "three macro variants", "a ticket summary table"),
    ),
    "product": (
        ("write a PRD for {topic}", "prioritise the backlog for {topic}", "write user stories for {topic}",
         "plan user interviews about {topic}", "define success metrics for {topic}", "write release notes for {topic}"),
        ("offline mode", "team workspaces", "usage-based billing", "onboarding checklist", "dark mode",
         "search filters", "mobile notifications", "an AI assistant"),
        ("engineers", "designers", "stakeholders", "beta customers"),
        ("Product manager", "UX researcher", "Product designer", "Head of product"),
        ("RACE", "SCQA", "TAG", "CO-STAR"),
        ("a one-page PRD", "user stories with acceptance criteria", "an interview guide", "release notes"),
    ),
})

GENERIC_GUARDRAILS = (
    "Do not invent facts; say when information is missing",
    "Ask one clarifying question if the request is ambiguous",
    "Keep the answer under 400 words",
    "Use plain language and avoid jargon",
    "Cite sources for every factual claim",
    "Do not include personal data",
    "State assumptions explicitly",
    "Match the requested output format exactly",
    "Prefer concrete examples over abstractions",
    "Flag anything that needs expert review",
    "Use inclusive language",
    "End with a short list of next steps",
)
CONTEXTS = (
    "", "", "Audience: {audience}.", "We are a team of 12 and this is for {audience}.",
    "Previous attempts were too long and too generic.", "Deadline is Friday; tone should be friendly.",
    "This will be reviewed by {audience} before publishing.", "Keep it consistent with our style guide.",
)
REASONINGS = (
    "The idea names a task and an audience; {framework} structures both and the guardrails limit scope.",
    "The request is short, so the prompt adds a role, an explicit output format and constraints.",
    "{framework} fits because the task needs {desc}.",
    "The idea is ambiguous about length and audience; the prompt fixes both and asks for assumptions.",
    "Demonstrations with similar tasks suggested a {framework} structure and a concrete format.",
)
