// The JSON Schemas test/support/csdl.ts derives from Microsoft's Graph v1.0 CSDL: the CSDL facts
// copilog relies on, and that the derivation accepts Graph's real shapes and rejects everything a
// faithful emulator must never send.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { csdlModel, validateEntity, assertValid, validateCollectionResponse, schemaFor } from './support/csdl.js';

type Json = Record<string, unknown>;

const TENANT = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const USER_ID = '6e5b8a2c-1111-4222-8333-944455556666';

const INTERACTION: Json = {
  id: '1767261600123',
  etag: '1767261600123',
  sessionId: '19:abc@thread.v2',
  requestId: '7d1f0c2e-0000-4000-8000-000000000001',
  appClass: 'IPM.SkypeTeams.Message.Copilot.BizChat',
  interactionType: 'userPrompt',
  conversationType: 'bizchat',
  createdDateTime: '2026-01-01T10:00:00.123Z',
  locale: 'en-us',
  contexts: [],
  attachments: [],
  links: [],
  mentions: [],
  from: {
    '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet',
    application: null,
    device: null,
    user: {
      '@odata.type': '#microsoft.graph.teamworkUserIdentity',
      id: USER_ID,
      displayName: `8:orgid:${USER_ID}`,
      userIdentityType: 'aadUser',
      tenantId: TENANT,
    },
  },
  body: { contentType: 'text', content: 'Summarise my unread mail' },
};

/** A deep copy of value with edit applied. */
function variant<T>(value: T, edit: (copy: T) => void): T {
  const copy = structuredClone(value);
  edit(copy);
  return copy;
}

function expectValid(typeName: string, value: unknown, options?: { partial?: boolean }): void {
  const errors = validateEntity(typeName, value, options);
  assert.deepEqual(errors, [], `expected a valid ${typeName}:\n  ${errors.join('\n  ')}`);
}

/** value must be invalid, with (for each fragment) an error mentioning it. */
function expectInvalid(typeName: string, value: unknown, ...fragments: string[]): string[] {
  const errors = validateEntity(typeName, value);
  assert.ok(errors.length > 0, `expected ${typeName} to be rejected: ${JSON.stringify(value).slice(0, 300)}`);
  for (const f of fragments) {
    assert.ok(errors.some((e) => e.includes(f)), `no error mentions ${JSON.stringify(f)}:\n  ${errors.join('\n  ')}`);
  }
  return errors;
}

describe('CSDL facts copilog relies on', () => {
  const model = csdlModel();

  test('aiInteraction has exactly the properties copilog reads and writes', () => {
    const props = model.properties('microsoft.graph.aiInteraction');
    assert.deepEqual(props.map((p) => p.name).sort(), [
      'appClass', 'attachments', 'body', 'contexts', 'conversationType', 'createdDateTime', 'etag', 'from', 'id',
      'interactionType', 'links', 'locale', 'mentions', 'requestId', 'sessionId',
    ]);
    assert.ok(props.every((p) => !p.navigation), 'aiInteraction has no navigation properties');
    const id = props.find((p) => p.name === 'id')!;
    assert.equal(id.declaredOn, 'microsoft.graph.entity', 'id is inherited from graph.entity');
    assert.equal(model.structured('aiInteraction').baseType, 'microsoft.graph.entity');
    assert.equal(model.structured('entity').abstract, true);
    assert.equal(model.isOpen('aiInteraction'), false, 'aiInteraction is closed: unknown properties are errors');
  });

  test("aiInteraction's property types and nullability", () => {
    const byName = new Map(model.properties('aiInteraction').map((p) => [p.name, p]));
    const shape = (n: string): string => {
      const p = byName.get(n)!;
      return `${p.collection ? `Collection(${p.type})` : p.type}${p.nullable ? '' : ' not null'}`;
    };
    assert.deepEqual(Object.fromEntries([...byName.keys()].sort().map((n) => [n, shape(n)])), {
      appClass: 'Edm.String not null',
      attachments: 'Collection(microsoft.graph.aiInteractionAttachment)',
      body: 'microsoft.graph.itemBody',
      contexts: 'Collection(microsoft.graph.aiInteractionContext)',
      conversationType: 'Edm.String',
      createdDateTime: 'Edm.DateTimeOffset',
      etag: 'Edm.String',
      from: 'microsoft.graph.identitySet not null',
      id: 'Edm.String not null',
      interactionType: 'microsoft.graph.aiInteractionType not null',
      links: 'Collection(microsoft.graph.aiInteractionLink)',
      locale: 'Edm.String not null',
      mentions: 'Collection(microsoft.graph.aiInteractionMention)',
      requestId: 'Edm.String',
      sessionId: 'Edm.String not null',
    });
  });

  test('enums: aiInteractionType and bodyType', () => {
    assert.deepEqual(model.enumType('aiInteractionType').members, ['userPrompt', 'aiResponse', 'unknownFutureValue']);
    assert.equal(model.enumType('aiInteractionType').flags, false);
    assert.deepEqual(model.enumType('bodyType').members, ['text', 'html']);
  });

  test('identity types: the derived types Graph puts in aiInteraction.from', () => {
    assert.equal(model.structured('chatMessageFromIdentitySet').baseType, 'microsoft.graph.identitySet');
    assert.equal(model.structured('teamworkUserIdentity').baseType, 'microsoft.graph.identity');
    assert.ok(model.descendants('identitySet').includes('microsoft.graph.chatMessageFromIdentitySet'));
    assert.ok(model.descendants('identity').includes('microsoft.graph.teamworkUserIdentity'));
    assert.equal(model.isOpen('identitySet'), true);
    // Same short name in another namespace: resolution keeps them apart.
    assert.equal(model.resolve('identitySet'), 'microsoft.graph.identitySet');
    assert.equal(model.resolve('search.identitySet'), 'microsoft.graph.search.identitySet');
    assert.equal(model.resolve('#Microsoft.Graph.IdentitySet'), 'microsoft.graph.identitySet');
  });

  test('directory types: open types, and the non-nullable properties a complete object carries', () => {
    for (const t of ['user', 'servicePrincipal', 'organization', 'directoryObject']) assert.equal(model.isOpen(t), true, t);
    for (const t of ['licenseDetails', 'subscribedSku', 'appRoleAssignment', 'assignedLicense', 'appRole']) assert.equal(model.isOpen(t), false, t);
    // OpenType is declared type by type: appRoleAssignment derives from the open directoryObject but is closed.
    assert.equal(model.structured('appRoleAssignment').baseType, 'microsoft.graph.directoryObject');
    const required = (t: string): string[] => model.properties(t).filter((p) => !p.nullable && !p.navigation).map((p) => p.name).sort();
    assert.deepEqual(required('appRoleAssignment'), ['appRoleId', 'id']);
    assert.deepEqual(required('licenseDetails'), ['id', 'servicePlans']);
    assert.deepEqual(required('appRole'), ['allowedMemberTypes', 'id', 'isEnabled']);
    assert.deepEqual(required('assignedLicense'), ['disabledPlans']);
  });
});

describe('schemaFor()', () => {
  test('aiInteraction: closed object, non-nullable properties required, enum from the CSDL', () => {
    const schema = schemaFor('aiInteraction');
    const defs = schema.$defs as Record<string, Json>;
    assert.equal(schema.$ref, '#/$defs/microsoft.graph.aiInteraction');
    const ai = defs['microsoft.graph.aiInteraction']!;
    assert.equal(ai.additionalProperties, false);
    assert.deepEqual(Object.keys(ai.properties as Json).filter((k) => !k.startsWith('@')).sort(), [
      'appClass', 'attachments', 'body', 'contexts', 'conversationType', 'createdDateTime', 'etag', 'from', 'id',
      'interactionType', 'links', 'locale', 'mentions', 'requestId', 'sessionId',
    ]);
    assert.deepEqual([...(ai.required as string[])].sort(), ['appClass', 'from', 'id', 'interactionType', 'locale', 'sessionId']);
    assert.deepEqual(defs['microsoft.graph.aiInteractionType']!.enum, ['userPrompt', 'aiResponse', 'unknownFutureValue']);
    // identitySet has derived types: a dispatching entry plus the exact shape.
    assert.ok(defs['microsoft.graph.identitySet']!.if, 'identitySet dispatches on @odata.type');
    assert.ok(defs['microsoft.graph.identitySet:exact']);
    assert.ok(defs['microsoft.graph.chatMessageFromIdentitySet']);
    assert.ok(defs['microsoft.graph.teamworkUserIdentity']);
    // The returned schema is a copy: mutating it does not change validation.
    ai.additionalProperties = true;
    expectInvalid('aiInteraction', { ...INTERACTION, bogus: 1 }, 'bogus');
  });

  test('type names resolve with or without namespace, alias or "#"', () => {
    for (const name of ['user', 'graph.user', 'microsoft.graph.user', '#microsoft.graph.user']) {
      assert.equal(schemaFor(name).title, 'microsoft.graph.user');
    }
    assert.throws(() => schemaFor('noSuchType'), /no Graph type named noSuchType/);
    assert.throws(() => validateEntity('aiInteractionType', 'userPrompt'), /enum type/);
  });

  test('open types allow undeclared properties, closed ones do not', () => {
    const shape = (t: string): Json => {
      const defs = schemaFor(t).$defs as Record<string, Json>;
      const own = defs[`microsoft.graph.${t}:exact`] ?? defs[`microsoft.graph.${t}`]!;
      assert.equal(own['x-odata-type'], `microsoft.graph.${t}`);
      assert.ok(own.properties, `${t} has properties`);
      return own;
    };
    assert.equal(shape('user').additionalProperties, undefined);
    assert.equal(shape('servicePrincipal').additionalProperties, undefined);
    assert.equal(shape('licenseDetails').additionalProperties, false);
    assert.equal(shape('appRoleAssignment').additionalProperties, false);
  });
});

describe('aiInteraction payloads', () => {
  test('a realistic prompt validates', () => {
    expectValid('microsoft.graph.aiInteraction', INTERACTION);
    expectValid('aiInteraction', INTERACTION);
    assertValid('aiInteraction', INTERACTION);
  });

  test('a realistic response with attachments, links, contexts and mentions validates', () => {
    const response = variant(INTERACTION, (v) => {
      v.id = '1767261605456';
      v.interactionType = 'aiResponse';
      v.requestId = '7d1f0c2e-0000-4000-8000-000000000001';
      v.from = {
        '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet',
        user: null,
        device: null,
        application: { '@odata.type': '#microsoft.graph.teamworkApplicationIdentity', id: 'fb8d773d-7ef8-4ec0-a117-179f88add510', displayName: 'Microsoft 365 Chat', applicationIdentityType: 'bot' },
      };
      v.body = { contentType: 'html', content: '<p>You have 3 unread messages.</p>' };
      v.attachments = [{ attachmentId: 'a1', contentType: 'reference', contentUrl: 'https://contoso.sharepoint.com/x.docx', name: 'x.docx', content: null }];
      v.links = [{ linkUrl: 'https://contoso.sharepoint.com/x.docx', displayName: 'x.docx', linkType: 'file' }];
      v.contexts = [{ contextReference: 'https://outlook.office.com/mail/inbox', contextType: 'web', displayName: 'Inbox' }];
      v.mentions = [{ mentionId: 0, mentionText: 'Adele', mentioned: { user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: USER_ID, displayName: 'Adele Vance', userIdentityType: 'aadUser' } } }];
    });
    expectValid('aiInteraction', response);
  });

  test('nullable properties accept null; annotations are allowed', () => {
    expectValid('aiInteraction', variant(INTERACTION, (v) => {
      v.requestId = null;
      v.body = null;
      v.etag = null;
      v.conversationType = null;
      v.createdDateTime = null;
      v.attachments = null;
      v['@odata.etag'] = 'W/"1"';
      v['@odata.id'] = 'https://graph.microsoft.com/v1.0/copilot/x';
      v['body@odata.type'] = '#microsoft.graph.itemBody';
    }));
  });

  test('interactionType outside aiInteractionType is rejected', () => {
    expectInvalid('aiInteraction', { ...INTERACTION, interactionType: 'foo' }, '$.interactionType', 'aiInteractionType');
    expectInvalid('aiInteraction', { ...INTERACTION, interactionType: 'UserPrompt' }, '$.interactionType');
  });

  for (const name of ['from', 'locale', 'sessionId', 'appClass', 'interactionType', 'id']) {
    test(`a missing or null ${name} is rejected (Nullable="false")`, () => {
      const missing = variant(INTERACTION, (v) => delete v[name]);
      expectInvalid('aiInteraction', missing, `missing required property '${name}'`);
      expectInvalid('aiInteraction', { ...INTERACTION, [name]: null }, `$.${name}`);
    });
  }

  test('an undeclared property is rejected', () => {
    expectInvalid('aiInteraction', { ...INTERACTION, summary: 'x' }, '$.summary: unknown property');
    // Nested closed complex types too.
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => ((v.body as Json).format = 'markdown')), '$.body.format');
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => (v.links = [{ linkUrl: 'https://x', title: 't' }])), '$.links[0].title');
  });

  test('body.contentType outside bodyType is rejected', () => {
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => ((v.body as Json).contentType = 'markdown')), '$.body.contentType', 'bodyType');
  });

  test('"@odata.type" must be the declared type or derive from it', () => {
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => ((v.from as Json)['@odata.type'] = '#microsoft.graph.identity')),
      '$.from["@odata.type"]', 'microsoft.graph.identitySet');
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => ((v.from as Json)['@odata.type'] = '#microsoft.graph.user')), '$.from["@odata.type"]');
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => ((v.from as Json)['@odata.type'] = '#microsoft.graph.noSuchIdentitySet')), '$.from["@odata.type"]');
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => (((v.from as Json).user as Json)['@odata.type'] = '#microsoft.graph.chatMessageFromIdentitySet')),
      '$.from.user["@odata.type"]', 'microsoft.graph.identity');
    expectInvalid('aiInteraction', { ...INTERACTION, '@odata.type': '#microsoft.graph.user' }, '$["@odata.type"]');
  });

  test('"@odata.type" is matched case-insensitively, with or without "#"', () => {
    expectValid('aiInteraction', variant(INTERACTION, (v) => ((v.from as Json)['@odata.type'] = 'microsoft.graph.chatMessageFromIdentitySet')));
    expectValid('aiInteraction', variant(INTERACTION, (v) => ((v.from as Json)['@odata.type'] = '#Microsoft.Graph.ChatMessageFromIdentitySet')));
    expectValid('aiInteraction', { ...INTERACTION, '@odata.type': '#microsoft.graph.aiInteraction' });
  });

  test('the derived type named by "@odata.type" is the one validated', () => {
    // userIdentityType exists only on teamworkUserIdentity; its enum is checked there.
    expectInvalid('aiInteraction', variant(INTERACTION, (v) => (((v.from as Json).user as Json).userIdentityType = 'robot')),
      '$.from.user.userIdentityType', 'teamworkUserIdentityType');
    // attendee extends attendeeBase (both closed): "status" is allowed only with the derived type.
    const attendee = { emailAddress: { address: 'a@contoso.com', name: 'A' }, type: 'required', status: { response: 'accepted', time: '2026-01-01T10:00:00Z' } };
    expectInvalid('attendeeBase', attendee, '$.status: unknown property');
    expectValid('attendeeBase', { '@odata.type': '#microsoft.graph.attendee', ...attendee });
    expectInvalid('attendeeBase', { '@odata.type': '#microsoft.graph.attendee', ...attendee, status: { response: 'maybe' } }, '$.status.response');
  });

  test('abstract types cannot be named by "@odata.type"', () => {
    expectInvalid('callOptions', { '@odata.type': '#microsoft.graph.callOptions' }, 'abstract');
    expectValid('callOptions', { '@odata.type': '#microsoft.graph.incomingCallOptions', hideBotAfterEscalation: true });
  });

  test('primitive values are checked', () => {
    expectInvalid('aiInteraction', { ...INTERACTION, createdDateTime: 'yesterday' }, '$.createdDateTime', 'Edm.DateTimeOffset');
    expectInvalid('aiInteraction', { ...INTERACTION, createdDateTime: '2026-13-01T10:00:00Z' }, '$.createdDateTime');
    expectValid('aiInteraction', { ...INTERACTION, createdDateTime: '2026-01-01T10:00:00+01:00' });
    expectValid('aiInteraction', { ...INTERACTION, createdDateTime: '2026-01-01T10:00:00.1234567Z' });
    expectInvalid('aiInteraction', { ...INTERACTION, id: 1767261600123 }, '$.id');
    expectInvalid('aiInteraction', { ...INTERACTION, contexts: ['x'] }, '$.contexts[0]');
    expectInvalid('aiInteraction', { ...INTERACTION, mentions: [{ mentionId: 1.5 }] }, '$.mentions[0].mentionId');
    expectInvalid('aiInteraction', { ...INTERACTION, attachments: {} }, '$.attachments');
  });

  test('assertValid throws with every error and its path', () => {
    const bad = { ...INTERACTION, interactionType: 'foo', extra: true, locale: null };
    assert.throws(() => assertValid('aiInteraction', bad), (e: Error) => {
      assert.match(e.message, /not a valid microsoft\.graph\.aiInteraction \(3 errors\)/);
      assert.match(e.message, /\$\.interactionType/);
      assert.match(e.message, /\$\.extra/);
      assert.match(e.message, /\$\.locale/);
      return true;
    });
  });

  test('non-objects are rejected', () => {
    expectInvalid('aiInteraction', null, '$');
    expectInvalid('aiInteraction', [INTERACTION], '$');
    expectInvalid('aiInteraction', 'x', '$');
  });
});

describe('Edm primitive mapping', () => {
  test('Edm.Double / Edm.Single: numbers, or INF, -INF, NaN', () => {
    expectValid('geoCoordinates', { latitude: 47.6, longitude: -122, altitude: 'NaN' });
    expectValid('geoCoordinates', { latitude: 'INF', longitude: '-INF', altitude: null });
    expectInvalid('geoCoordinates', { latitude: 'inf' }, '$.latitude');
    expectInvalid('geoCoordinates', { latitude: '47.6' }, '$.latitude');
    expectInvalid('geoCoordinates', { latitude: true }, '$.latitude');
    expectValid('educationGradingSchemeGrade', { displayName: 'A', minPercentage: 0.9, defaultPercentage: 'NaN' });
  });

  test('Edm.Int64: integers (or strings of digits); Edm.Int32/Int16/Byte: integers within range', () => {
    expectValid('quota', { total: 1099511627776, used: '1024', remaining: 0, deleted: null, state: 'normal' });
    expectInvalid('quota', { total: 1.5 }, '$.total');
    expectInvalid('quota', { used: '1e3' }, '$.used');
    expectValid('rgbColor', { r: 0, g: 128, b: 255 });
    expectInvalid('rgbColor', { r: 256, g: 0, b: 0 }, '$.r');
    expectInvalid('rgbColor', { r: 0, g: -1, b: 0 }, '$.g');
    expectInvalid('collapseProperty', { fields: ['a'], limit: 40000 }, '$.limit');
    expectInvalid('subscribedSku', { id: 'x', servicePlans: [], consumedUnits: 2 ** 31 }, '$.consumedUnits');
  });

  test('Edm.Guid, Edm.Binary, Edm.Date, Edm.TimeOfDay, Edm.Duration', () => {
    const key = { keyId: 'f8c2a6f6-8b3a-4b3e-9f43-0123456789ab', key: 'MIIC3jCCAcagAwIBAgIQ', customKeyIdentifier: 'AbC9+/==', type: 'AsymmetricX509Cert', usage: 'Verify' };
    expectValid('keyCredential', key);
    expectInvalid('keyCredential', { ...key, keyId: 'f8c2a6f6' }, '$.keyId', 'Edm.Guid');
    expectInvalid('keyCredential', { ...key, key: 'not base64!' }, '$.key', 'Edm.Binary');
    expectValid('educationTerm', { displayName: 'T1', startDate: '2026-01-05', endDate: '2026-03-27' });
    expectInvalid('educationTerm', { startDate: '2026-01-05T00:00:00Z' }, '$.startDate', 'Edm.Date');
    expectValid('workingHours', { daysOfWeek: ['monday', 'friday'], startTime: '08:00:00.0000000', endTime: '17:30:00', timeZone: { name: 'UTC' } });
    expectInvalid('workingHours', { startTime: '25:00:00' }, '$.startTime', 'Edm.TimeOfDay');
    expectInvalid('workingHours', { daysOfWeek: ['someday'] }, '$.daysOfWeek[0]');
    expectValid('expirationPattern', { duration: 'P90D', type: 'afterDuration' });
    expectValid('expirationPattern', { duration: 'PT1H30M', type: 'afterDuration' });
    expectInvalid('expirationPattern', { duration: '90 days' }, '$.duration', 'Edm.Duration');
    expectInvalid('expirationPattern', { duration: 'P' }, '$.duration');
  });

  test('flags enums: comma-separated member names', () => {
    const members = csdlModel().enumType('conditionalAccessTransferMethods');
    assert.equal(members.flags, true);
    const [a, b] = members.members.filter((m) => m !== 'none' && m !== 'unknownFutureValue');
    expectValid('authenticationFlow', { transferMethod: `${a},${b}` });
    expectValid('authenticationFlow', { transferMethod: a });
    expectInvalid('authenticationFlow', { transferMethod: `${a},bogus` }, '$.transferMethod');
  });
});

describe('directory payloads', () => {
  const ASSIGNED_LICENSES = [
    { skuId: '639dec6b-bb19-468b-871c-c5c441c4b0cb', disabledPlans: [] },
    { skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', disabledPlans: ['efb87545-963c-4e0d-99df-69c6916d9eb0'] },
  ];
  const ASSIGNED_PLANS = [
    { assignedDateTime: '2026-01-01T00:00:00Z', capabilityStatus: 'Enabled', service: 'M365CopilotChat', servicePlanId: '3f30311c-6b1e-48a4-ab79-725b469da960' },
    { assignedDateTime: '2026-01-01T00:00:00Z', capabilityStatus: 'Deleted', service: 'exchange', servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0' },
  ];
  const USER: Json = {
    id: USER_ID,
    displayName: 'Adele Vance',
    userPrincipalName: 'AdeleV@contoso.onmicrosoft.com',
    mail: 'AdeleV@contoso.onmicrosoft.com',
    accountEnabled: true,
    usageLocation: 'US',
    assignedLicenses: ASSIGNED_LICENSES,
    assignedPlans: ASSIGNED_PLANS,
  };

  test('a user as returned with $select=…,assignedLicenses,assignedPlans (partial)', () => {
    expectValid('user', USER, { partial: true });
    assert.deepEqual(validateCollectionResponse('user', {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,assignedLicenses,assignedPlans)',
      value: [USER],
    }, { partial: true }), []);
  });

  test('a complete user must carry every non-nullable property', () => {
    const errors = expectInvalid('user', USER, "missing required property 'businessPhones'", "missing required property 'proxyAddresses'");
    assert.ok(!errors.some((e) => e.includes("'assignedLicenses'")));
    expectValid('user', {
      ...USER,
      businessPhones: ['+1 425 555 0109'],
      otherMails: [],
      proxyAddresses: ['SMTP:AdeleV@contoso.onmicrosoft.com'],
      provisionedPlans: [{ capabilityStatus: 'Enabled', provisioningStatus: 'Success', service: 'exchange' }],
      birthday: '0001-01-01T08:00:00Z',
      hireDate: '0001-01-01T08:00:00Z',
      deviceEnrollmentLimit: 5,
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
    });
  });

  test('user licence details are checked item by item', () => {
    const bad = (edit: (u: Json) => void, ...fragments: string[]) => {
      const value = variant(USER, edit);
      const errors = validateEntity('user', value, { partial: true });
      assert.ok(errors.length > 0, 'expected errors');
      for (const f of fragments) assert.ok(errors.some((e) => e.includes(f)), `${f} not in\n  ${errors.join('\n  ')}`);
    };
    bad((u) => ((u.assignedLicenses as Json[])[0]!.skuId = 'Microsoft_365_Copilot'), '$.assignedLicenses[0].skuId', 'Edm.Guid');
    bad((u) => ((u.assignedLicenses as Json[])[1]!.disabledPlans = null), '$.assignedLicenses[1].disabledPlans');
    bad((u) => delete (u.assignedLicenses as Json[])[0]!.disabledPlans, "missing required property 'disabledPlans'");
    bad((u) => ((u.assignedLicenses as Json[])[0]!.skuPartNumber = 'X'), '$.assignedLicenses[0].skuPartNumber: unknown property');
    bad((u) => ((u.assignedPlans as Json[])[0]!.assignedDateTime = '2026-01-01'), '$.assignedPlans[0].assignedDateTime');
    bad((u) => (u.assignedLicenses = null), '$.assignedLicenses');
    bad((u) => (u.accountEnabled = 'true'), '$.accountEnabled');
    // user is an open type: undeclared top-level properties are allowed (extension attributes).
    expectValid('user', { ...USER, extension_abc_costCenter: '42' }, { partial: true });
  });

  test('expanded navigation properties are validated as their target type', () => {
    expectValid('user', { ...USER, manager: { '@odata.type': '#microsoft.graph.user', id: 'm1', displayName: 'Boss', manager: { '@odata.type': '#microsoft.graph.user', id: 'm2' } } }, { partial: true });
    expectValid('user', { ...USER, licenseDetails: [{ id: 'ld', skuId: '639dec6b-bb19-468b-871c-c5c441c4b0cb', servicePlans: [] }] }, { partial: true });
    const errs = validateEntity('user', { ...USER, manager: { '@odata.type': '#microsoft.graph.user', id: 'm1', manager: { '@odata.type': '#microsoft.graph.user', id: 'm2', accountEnabled: 'yes' } }, memberOf: [{ '@odata.type': '#microsoft.graph.group', id: 'g', securityEnabled: 1 }] }, { partial: true });
    assert.ok(errs.some((e) => e.startsWith('$.manager.manager.accountEnabled')), errs.join('\n'));
    assert.ok(errs.some((e) => e.startsWith('$.memberOf[0].securityEnabled')), errs.join('\n'));
    const wrong = validateEntity('user', { ...USER, manager: { '@odata.type': '#microsoft.graph.aiInteraction', id: 'x' } }, { partial: true });
    assert.ok(wrong.some((e) => e.startsWith('$.manager["@odata.type"]')), wrong.join('\n'));
  });

  const LICENSE_DETAILS: Json = {
    id: 'a3fbc5e2-0000-4000-8000-639dec6bbb19',
    skuId: '639dec6b-bb19-468b-871c-c5c441c4b0cb',
    skuPartNumber: 'Microsoft_365_Copilot',
    servicePlans: [
      { servicePlanId: '3f30311c-6b1e-48a4-ab79-725b469da960', servicePlanName: 'M365_COPILOT_BUSINESS_CHAT', provisioningStatus: 'Success', appliesTo: 'User' },
      { servicePlanId: '82d30987-df9b-4486-b146-198b21d164c7', servicePlanName: 'GRAPH_CONNECTORS_COPILOT', provisioningStatus: 'PendingProvisioning', appliesTo: 'User' },
    ],
  };

  test('licenseDetails', () => {
    expectValid('licenseDetails', LICENSE_DETAILS);
    expectInvalid('licenseDetails', variant(LICENSE_DETAILS, (v) => delete v.servicePlans), "missing required property 'servicePlans'");
    expectInvalid('licenseDetails', variant(LICENSE_DETAILS, (v) => ((v.servicePlans as Json[])[0]!.servicePlanId = 'M365_COPILOT_BUSINESS_CHAT')), '$.servicePlans[0].servicePlanId');
    expectInvalid('licenseDetails', { ...LICENSE_DETAILS, displayName: 'Copilot' }, '$.displayName: unknown property');
  });

  const SUBSCRIBED_SKU: Json = {
    id: `${TENANT}_639dec6b-bb19-468b-871c-c5c441c4b0cb`,
    accountId: TENANT,
    accountName: 'Contoso',
    appliesTo: 'User',
    capabilityStatus: 'Enabled',
    consumedUnits: 12,
    prepaidUnits: { enabled: 25, lockedOut: 0, suspended: 0, warning: 0 },
    skuId: '639dec6b-bb19-468b-871c-c5c441c4b0cb',
    skuPartNumber: 'Microsoft_365_Copilot',
    subscriptionIds: ['9b3f1a7e-0000-4000-8000-000000000001'],
    servicePlans: (LICENSE_DETAILS.servicePlans as Json[]).map((p) => ({ ...p, provisioningStatus: 'Success' })),
  };

  test('subscribedSku', () => {
    expectValid('subscribedSku', SUBSCRIBED_SKU);
    expectInvalid('subscribedSku', { ...SUBSCRIBED_SKU, consumedUnits: '12' }, '$.consumedUnits');
    expectInvalid('subscribedSku', { ...SUBSCRIBED_SKU, prepaidUnits: { enabled: 2.5 } }, '$.prepaidUnits.enabled');
    expectInvalid('subscribedSku', { ...SUBSCRIBED_SKU, prepaidUnits: { enabled: 25, total: 25 } }, '$.prepaidUnits.total');
  });

  const APP_ROLE: Json = {
    allowedMemberTypes: ['Application'],
    description: 'Allows the app to read all AI enterprise interactions.',
    displayName: 'Read all AI enterprise interactions',
    id: '839c90ab-5771-41ee-aef8-a562e8487c1e',
    isEnabled: true,
    origin: 'Application',
    value: 'AiEnterpriseInteraction.Read.All',
  };
  const SERVICE_PRINCIPAL: Json = {
    id: 'c1e5a0d4-0000-4000-8000-00000000a0a0',
    deletedDateTime: null,
    accountEnabled: true,
    appDisplayName: 'Microsoft Graph',
    appId: '00000003-0000-0000-c000-000000000000',
    appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a',
    appRoleAssignmentRequired: false,
    displayName: 'Microsoft Graph',
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMultipleOrgs',
    addIns: [],
    alternativeNames: [],
    appRoles: [APP_ROLE],
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    notificationEmailAddresses: [],
    oauth2PermissionScopes: [{ adminConsentDescription: 'd', adminConsentDisplayName: 'n', id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', isEnabled: true, type: 'User', value: 'User.Read' }],
    passwordCredentials: [],
    replyUrls: [],
    resourceSpecificApplicationPermissions: [],
    servicePrincipalNames: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
    tags: [],
  };

  test('servicePrincipal with appRoles', () => {
    expectValid('servicePrincipal', SERVICE_PRINCIPAL);
    expectInvalid('servicePrincipal', variant(SERVICE_PRINCIPAL, (v) => delete v.appRoles), "missing required property 'appRoles'");
    expectInvalid('servicePrincipal', variant(SERVICE_PRINCIPAL, (v) => delete (v.appRoles as Json[])[0]!.isEnabled), '$.appRoles[0]', "'isEnabled'");
    expectInvalid('servicePrincipal', variant(SERVICE_PRINCIPAL, (v) => ((v.appRoles as Json[])[0]!.id = 'AiEnterpriseInteraction.Read.All')), '$.appRoles[0].id', 'Edm.Guid');
    expectInvalid('servicePrincipal', variant(SERVICE_PRINCIPAL, (v) => ((v.appRoles as Json[])[0]!.allowedMemberTypes = 'Application')), '$.appRoles[0].allowedMemberTypes');
    expectInvalid('servicePrincipal', variant(SERVICE_PRINCIPAL, (v) => ((v.appRoles as Json[])[0]!.permission = 'x')), '$.appRoles[0].permission: unknown property');
  });

  const ASSIGNMENT: Json = {
    id: 'q8Ex3rvkfUKYs8hI6X4DS0vCNo0CVxtJqDCvXmhZ5BQ',
    deletedDateTime: null,
    appRoleId: '839c90ab-5771-41ee-aef8-a562e8487c1e',
    createdDateTime: '2026-01-01T09:00:00.5542221Z',
    principalDisplayName: 'copilog',
    principalId: 'de31c4ab-0000-4000-8000-00000000c0de',
    principalType: 'ServicePrincipal',
    resourceDisplayName: 'Microsoft Graph',
    resourceId: 'c1e5a0d4-0000-4000-8000-00000000a0a0',
  };

  test('appRoleAssignment', () => {
    expectValid('appRoleAssignment', ASSIGNMENT);
    expectInvalid('appRoleAssignment', variant(ASSIGNMENT, (v) => delete v.appRoleId), "missing required property 'appRoleId'");
    expectInvalid('appRoleAssignment', { ...ASSIGNMENT, principalId: 'copilog' }, '$.principalId');
    expectInvalid('appRoleAssignment', { ...ASSIGNMENT, roleName: 'AiEnterpriseInteraction.Read.All' }, '$.roleName: unknown property');
    assert.deepEqual(validateCollectionResponse('appRoleAssignment', {
      '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('de31c4ab-0000-4000-8000-00000000c0de')/appRoleAssignments",
      value: [ASSIGNMENT],
    }), []);
  });

  const ORGANIZATION: Json = {
    id: TENANT,
    deletedDateTime: null,
    displayName: 'Contoso',
    countryLetterCode: 'US',
    createdDateTime: '2020-01-01T00:00:00Z',
    tenantType: 'AAD',
    assignedPlans: ASSIGNED_PLANS,
    provisionedPlans: [{ capabilityStatus: 'Enabled', provisioningStatus: 'Success', service: 'exchange' }],
    businessPhones: [],
    marketingNotificationEmails: [],
    securityComplianceNotificationMails: [],
    securityComplianceNotificationPhones: [],
    technicalNotificationMails: ['admin@contoso.com'],
    mobileDeviceManagementAuthority: 'unknown',
    verifiedDomains: [{ capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: true, name: 'contoso.onmicrosoft.com', type: 'Managed' }],
  };

  test('organization', () => {
    expectValid('organization', ORGANIZATION);
    expectInvalid('organization', { ...ORGANIZATION, mobileDeviceManagementAuthority: 'Intune' }, '$.mobileDeviceManagementAuthority', 'mdmAuthority');
    expectInvalid('organization', variant(ORGANIZATION, (v) => delete v.verifiedDomains), "missing required property 'verifiedDomains'");
    expectInvalid('organization', variant(ORGANIZATION, (v) => ((v.verifiedDomains as Json[])[0]!.verified = true)), '$.verifiedDomains[0].verified: unknown property');
  });
});

describe('collection responses', () => {
  const page = (value: unknown[]): Json => ({
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.aiInteraction)`,
    '@odata.nextLink': `https://graph.microsoft.com/v1.0/copilot/users/${USER_ID}/interactionHistory/getAllEnterpriseInteractions?$skiptoken=abc`,
    value,
  });

  test('a page of interactions validates, with or without nextLink and count', () => {
    const response = variant(INTERACTION, (v) => {
      v.id = '1767261605456';
      v.interactionType = 'aiResponse';
    });
    assert.deepEqual(validateCollectionResponse('aiInteraction', page([INTERACTION, response])), []);
    assert.deepEqual(validateCollectionResponse('aiInteraction', { '@odata.context': 'x', value: [], '@odata.count': 0 }), []);
  });

  test('envelope errors', () => {
    const errs = (body: unknown): string[] => validateCollectionResponse('aiInteraction', body);
    assert.ok(errs({ value: [] }).some((e) => e.includes("'@odata.context'")));
    assert.ok(errs({ '@odata.context': 'x' }).some((e) => e.includes("'value'")));
    assert.ok(errs({ '@odata.context': 'x', value: INTERACTION }).some((e) => e.startsWith('$.value')));
    assert.ok(errs({ ...page([]), '@odata.nextLink': 42 }).some((e) => e.startsWith('$["@odata.nextLink"]')));
    assert.ok(errs({ ...page([]), '@odata.count': -1 }).some((e) => e.startsWith('$["@odata.count"]')));
    assert.ok(errs({ ...page([]), '@odata.count': '3' }).some((e) => e.startsWith('$["@odata.count"]')));
    assert.ok(errs({ ...page([]), nextLink: 'https://x' }).some((e) => e.startsWith('$.nextLink: unknown property')));
    assert.ok(errs([INTERACTION]).length > 0);
  });

  test('each item is validated, with its index in the path', () => {
    const errors = validateCollectionResponse('aiInteraction', page([INTERACTION, { ...INTERACTION, interactionType: 'foo' }, { ...INTERACTION, locale: undefined }]));
    assert.ok(errors.some((e) => e.startsWith('$.value[1].interactionType')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('$.value[2]') && e.includes("'locale'")), errors.join('\n'));
    assert.ok(!errors.some((e) => e.startsWith('$.value[0]')), errors.join('\n'));
  });

  // How fast is bench's business; this only checks that a large page validates item by item.
  test('thousands of objects validate once compiled', () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ ...INTERACTION, id: String(1767261600123 + i), interactionType: i % 2 ? 'aiResponse' : 'userPrompt' }));
    assert.deepEqual(validateCollectionResponse('aiInteraction', page(items)), []);
    for (const item of items) assert.equal(validateEntity('aiInteraction', item).length, 0);
  });
});
