// Well-known identifiers of Microsoft's first-party applications and of the export permission.
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const EXPORT_ROLE = 'AiEnterpriseInteraction.Read.All';
export const EXPORT_ROLE_ID = '839c90ab-5771-41ee-aef8-a562e8487c1e';
export const EXPORT_PATH_TEMPLATE = '/copilot/users/{id}/interactionhistory/getallenterpriseinteractions';
/** Change Tracking service principal that signs rich-notification validation tokens. */
export const CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
/** The bot identity Copilot responses come from. */
export const COPILOT_BOT_APP_ID = 'fb8d773d-7ef8-4ec0-a117-179f88add510';
