// Fake business content for generated interactions: prompt and answer templates per Copilot app,
// and word lists for a fictitious tenant. Every name, file and figure here is invented.
import type { CopilotApp } from './model.js';

export const FIRST_NAMES = [
  'Adele', 'Alex', 'Allan', 'Diego', 'Grady', 'Henrietta', 'Isaiah', 'Johanna', 'Joni', 'Lee',
  'Lidia', 'Lynne', 'Megan', 'Miriam', 'Nestor', 'Patti', 'Pradeep', 'Priya', 'Ravi', 'Sofia',
  'Tomás', 'Yuki', 'Zainab', 'Olivier',
];
export const LAST_NAMES = [
  'Vance', 'Wilber', 'Deyoung', 'Siciliani', 'Archie', 'Gonzalez', 'Langer', 'Lauer', 'Sherman', 'Gu',
  'Holloway', 'Robbins', 'Bowen', 'Graham', 'Wilke', 'Fernandez', 'Gupta', 'Nair', 'Okafor', 'Rossi',
  'Tanaka', 'Haddad', 'Lindqvist', 'Moreau',
];
export const TENANT_DOMAINS = [
  'contoso', 'fabrikam', 'northwindtraders', 'adatum', 'tailspintoys', 'woodgrovebank', 'litwareinc',
  'wingtiptoys', 'proseware', 'fourthcoffee', 'alpineskihouse', 'relecloud',
];
export const PROJECTS = [
  'Project Falcon', 'Project Mercury', 'the Q3 launch', 'the CRM migration', 'the pricing refresh',
  'the Lisbon office move', 'the partner portal', 'the onboarding revamp', 'Project Aurora',
  'the data platform upgrade', 'the spring campaign', 'the supplier audit',
];
export const TOPICS = [
  'the budget forecast', 'hiring plans', 'the release timeline', 'customer churn', 'the vendor contract',
  'the security review', 'travel policy', 'the marketing plan', 'quarterly OKRs', 'the support backlog',
  'licence renewals', 'the pilot results',
];
export const CUSTOMERS = [
  'Northwind Traders', 'Tailspin Toys', 'Adventure Works', 'Wide World Importers', 'Coho Winery',
  'Lucerne Publishing', 'Margie\'s Travel', 'Trey Research', 'Blue Yonder Airlines', 'Graphic Design Institute',
];
export const DOCS = [
  'Q3 Forecast.xlsx', 'Product Roadmap.pptx', 'Pricing Proposal.docx', 'Onboarding Checklist.docx',
  'Campaign Brief.docx', 'Board Update.pptx', 'Vendor Comparison.xlsx', 'Customer Feedback Summary.docx',
  'Budget FY27.xlsx', 'Architecture Overview.pptx', 'Sales Pipeline.xlsx', 'Launch Plan.loop',
];
export const CHANNELS = [
  'the Sales team channel', 'the Leadership chat', 'the Marketing channel', 'the Engineering standup chat',
  'the Finance channel', 'the project chat', 'the Customer Success channel',
];
export const MEETINGS = [
  'Weekly sync', 'Pipeline review', 'Sprint planning', 'Quarterly business review', 'Design review',
  'All hands', 'Marketing standup', 'Budget check-in', 'Customer escalation call', 'Hiring panel debrief',
  'Roadmap planning', 'Partner update',
];
export const METRICS = ['revenue', 'units sold', 'gross margin', 'headcount', 'ticket volume', 'spend', 'bookings'];
export const REGIONS = ['EMEA', 'North America', 'APAC', 'LATAM'];
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];

/** Prompt templates per app; `{name}` placeholders are filled per turn. */
export const PROMPTS: Record<CopilotApp | 'TeamsMeeting', readonly string[]> = {
  BizChat: [
    'Summarise my unread mail',
    'Summarise my unread mail from {person}',
    'What did I miss in {channel} this week?',
    'What are the open action items from the {meeting}?',
    'Draft a reply to {person} about {topic}',
    'Prepare me for my {meeting} meeting on {weekday}',
    'What\'s the latest on {project}?',
    'Find the {doc} file that {person} shared last week',
    'List the decisions made about {topic} in the last two weeks',
    'Who is working on {project}?',
    'Write a status update on {project} for my manager',
    'What did {person} say about {topic}?',
    'Summarise the emails about {customer} from the last 7 days',
    'Give me three talking points for my 1:1 with {person}',
  ],
  WebChat: [
    'What are good practices for running a {meeting} meeting?',
    'Explain {topic} in simple terms for a new starter',
    'Write a short post announcing {project} to customers',
    'Suggest an agenda for a 30 minute workshop on {topic}',
    'What questions should I ask when reviewing {topic}?',
    'Give me five icebreakers for a team offsite',
  ],
  Teams: [
    'What did I miss in this chat?',
    'Summarise the conversation with {person} from the last 3 days',
    'What are the unresolved questions in this chat?',
    'Draft a message to {person} asking for the {doc} by {weekday}',
    'Catch me up on {channel}',
    'List the links shared in this chat about {project}',
  ],
  TeamsMeeting: [
    'Summarise the meeting so far',
    'What questions are still unresolved?',
    'List the action items and owners',
    'What did {person} say about {topic}?',
    'Were any decisions made about {topic}?',
    'Generate meeting notes',
  ],
  Word: [
    'Summarise this document',
    'Draft a proposal for {customer} based on {doc}',
    'Rewrite this paragraph to be more concise',
    'Add a section on risks and mitigations for {project}',
    'Make the tone of this document more formal',
    'What are the key dates in this document?',
  ],
  Excel: [
    'Show total {metric} by region',
    'Highlight the top 10 values in the {metric} column',
    'Add a column that calculates {metric} growth month over month',
    'What trends do you see in this data?',
    'Create a chart of {metric} by month',
    'Which region had the lowest {metric} last quarter?',
  ],
  PowerPoint: [
    'Create a presentation from {doc}',
    'Add a slide summarising the milestones of {project}',
    'Summarise this presentation',
    'Suggest speaker notes for slide {n}',
    'Organise this deck into sections',
  ],
  Outlook: [
    'Summarise this email thread',
    'Draft a reply to {person} thanking them for the {doc}',
    'Make this email clearer and more concise',
    'Draft an email to the team about {topic}',
    'Schedule time with {person} next week to discuss {topic}',
  ],
  Loop: [
    'Brainstorm ideas for {topic}',
    'Create a project plan for {project}',
    'Summarise this page',
    'Create a table to track tasks for {project}',
    'Turn these notes into a checklist',
  ],
};

/** Answer templates per app (paragraphs separated by blank lines). */
export const ANSWERS: Record<CopilotApp | 'TeamsMeeting', readonly string[]> = {
  BizChat: [
    'Here is a summary of {n} recent messages:\n\n1. {person} asked for feedback on {doc} by {weekday}.\n2. {person2} shared an update on {project}; the next milestone moved by one week.\n3. Finance needs your input on {topic}.',
    '{project} is on track. {person} confirmed the scope on {weekday}, and the open risk is {topic}. The latest figures are in {doc} [1].',
    'Here\'s a draft you can send:\n\nHi {person}, thanks for raising {topic}. I\'ve reviewed the numbers in {doc} and I\'m happy to go ahead. Could we confirm the next steps on {weekday}?',
    'In {channel} you missed three threads: a question from {person} about {topic}, the agenda for the {meeting}, and a request from {person2} to review {doc}.',
    'For your {meeting} meeting: {person} will present {project}; expect questions on {topic}. Last time the team agreed to revisit {metric} targets for {region}.',
    'I found {doc} [1], shared by {person} on {weekday}. It covers {topic} and the plan for {customer}.',
  ],
  WebChat: [
    'Here are some suggestions:\n\n1. Share a short agenda in advance.\n2. Keep the discussion focused on decisions.\n3. Close with owners and dates for each action.',
    'In short: {topic} is about making sure the right people have the right information at the right time. Start with the goals, then agree on who owns each step.',
    'Draft post: We are excited to announce {project}! It makes it easier for our customers to get started, and it is available from {weekday}.',
  ],
  Teams: [
    'Here\'s what you missed: {person} asked about {topic}, {person2} shared {doc}, and the team agreed to meet on {weekday}.',
    'Open questions: who owns {topic}, and whether {project} needs another review before {weekday}.',
    'Draft: Hi {person}, could you share the latest {doc} by {weekday}? Thanks!',
  ],
  TeamsMeeting: [
    'So far, {person} presented the status of {project}. The group discussed {topic} and agreed to follow up on {weekday}.',
    'Action items: {person} to update {doc}; {person2} to confirm {topic} with {customer}.',
    'Unresolved: the timeline for {project} and who will own {topic}.',
    'Decision: the team will proceed with {project} and revisit {topic} next month.',
  ],
  Word: [
    'This document proposes {project} for {customer}. It covers scope, timeline and budget, and highlights {topic} as the main risk.',
    'Here is a more concise version: We recommend starting {project} on {weekday}, pending sign-off on {topic}.',
    'Key dates: kickoff on {weekday}, first review in two weeks, and delivery at the end of the quarter.',
  ],
  Excel: [
    'Total {metric} by region: {region} leads, followed by the other regions with similar results. I added a summary table on a new sheet.',
    '{metric} grew steadily over the last three months, with a dip in {region} in the second month.',
    'I added a chart of {metric} by month next to the data.',
  ],
  PowerPoint: [
    'I created 8 slides from {doc}: title, agenda, context, {project} overview, timeline, risks, next steps and Q&A.',
    'This deck presents {project}: goals, milestones and the open question about {topic}.',
    'Suggested speaker notes: explain why {topic} matters, then walk through the milestones for {project}.',
  ],
  Outlook: [
    'Summary: {person} is asking for a decision on {topic}. {person2} supports the proposal, pending the figures in {doc}.',
    'Draft: Hi {person}, thank you for the {doc}. It was very helpful, and I will share feedback by {weekday}.',
    'I found a 30 minute slot with {person} on {weekday} at 10:00 to discuss {topic}.',
  ],
  Loop: [
    'Ideas for {topic}:\n\n- Run a short survey\n- Pilot with one team\n- Share results at the {meeting}',
    'Project plan for {project}: discovery (2 weeks), build (4 weeks), pilot (2 weeks), rollout.',
    'Checklist:\n\n- Confirm scope with {person}\n- Update {doc}\n- Book the {meeting}',
  ],
};

export const RECAP_SUMMARIES = [
  'Meeting recap: the team reviewed {project}, discussed {topic} and agreed next steps. {person} will follow up by {weekday}.',
  'Recap: {person} presented the latest figures, {person2} raised {topic}, and the group agreed to revisit it at the next {meeting}.',
  'Summary: decisions on {project} were confirmed; open items are {topic} and the update to {doc}.',
];
