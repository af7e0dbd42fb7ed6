/**
 * The quick start's copy-paste examples: the token call with HTTP Basic (RFC 7617; the seed page
 * shows `Basic base64("<CLIENT_ID>:<CLIENT_SECRET>")` and its C# encodes ISO-8859-1), filled with
 * the app's own client id; the secret stays a placeholder read from the environment.
 */
export interface QuickStartValues {
  publicUrl: string;
  clientId: string;
  redirectUri: string;
  /** A code to put in the examples (the test callback has a real one); a placeholder otherwise. */
  code?: string;
}

export interface CodeExample {
  id: string;
  language: string;
  code: string;
}

/** The redirect URL a connect request can use: a registration's `*` filled in. */
export function concreteRedirect(registration: string): string {
  return registration.replace(/\*/g, 'quickstart');
}

export function connectUrl(publicUrl: string, clientId: string, redirectUri: string): string {
  const url = new URL(`${publicUrl}/v1/oauth/connect`);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'accounts');
  url.searchParams.set('state', 'quickstart');
  return url.toString();
}

const q = (s: string) => JSON.stringify(s);

export function tokenExamples(v: QuickStartValues): CodeExample[] {
  const code = v.code ?? '<CODE>';
  const token = `${v.publicUrl}/v1/oauth/token`;
  return [
    {
      id: 'curl',
      language: 'curl',
      code: [
        `curl -X POST ${token} \\`,
        `  -u "${v.clientId}:$FERRY_CLIENT_SECRET" \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  -d '{ "grant_type": "authorization_code", "code": ${q(code)}, "redirect_uri": ${q(v.redirectUri)} }'`,
      ].join('\n'),
    },
    {
      id: 'ts-client',
      language: 'TypeScript (@ferry/client)',
      code: [
        `import { FerryClient } from '@ferry/client';`,
        ``,
        `const ferry = new FerryClient({ baseUrl: ${q(v.publicUrl)}, clientId: ${q(v.clientId)}, clientSecret: process.env.FERRY_CLIENT_SECRET! });`,
        ``,
        `// 1. Send the user to Ferry (state and PKCE made for you; keep both in the user's session).`,
        `const { url, state, codeVerifier } = await ferry.createConnectUrl({ redirectUri: ${q(v.redirectUri)}, scope: 'accounts' });`,
        ``,
        `// 2. Back on your redirect URL: check state and iss, then exchange the code (within 60 seconds).`,
        `const { code } = ferry.parseCallback(callbackUrl, { state });`,
        `const tokens = await ferry.exchangeCode({ code, redirectUri: ${q(v.redirectUri)}, codeVerifier });`,
        `console.log(tokens.accessToken);`,
      ].join('\n'),
    },
    {
      id: 'ts-fetch',
      language: 'TypeScript (fetch)',
      code: [
        `const basic = Buffer.from(\`${v.clientId}:\${process.env.FERRY_CLIENT_SECRET}\`, 'latin1').toString('base64');`,
        `const response = await fetch(${q(token)}, {`,
        `  method: 'POST',`,
        `  headers: { Authorization: \`Basic \${basic}\`, 'Content-Type': 'application/json' },`,
        `  body: JSON.stringify({ grant_type: 'authorization_code', code: ${q(code)}, redirect_uri: ${q(v.redirectUri)} }),`,
        `});`,
        `const tokens = await response.json(); // { access_token, expires_in, refresh_token, token_type, redirect_uri }`,
      ].join('\n'),
    },
    {
      id: 'python',
      language: 'Python',
      code: [
        `import base64, json, os, urllib.request`,
        ``,
        `credentials = f"${v.clientId}:{os.environ['FERRY_CLIENT_SECRET']}".encode("iso-8859-1")`,
        `request = urllib.request.Request(`,
        `    ${q(token)},`,
        `    data=json.dumps({"grant_type": "authorization_code", "code": ${q(code)}, "redirect_uri": ${q(v.redirectUri)}}).encode(),`,
        `    headers={"Authorization": "Basic " + base64.b64encode(credentials).decode(), "Content-Type": "application/json"},`,
        `    method="POST",`,
        `)`,
        `tokens = json.load(urllib.request.urlopen(request))`,
        `print(tokens["access_token"])`,
      ].join('\n'),
    },
    {
      id: 'csharp',
      language: 'C#',
      code: [
        `using System.Net.Http.Headers;`,
        `using System.Text;`,
        ``,
        `string GenerateBasicAuthorizationHeaderValue(string clientId, string clientSecret)`,
        `{`,
        `  var credentials = $"{clientId}:{clientSecret}";`,
        `  var credentialsByteData = Encoding.GetEncoding("iso-8859-1").GetBytes(credentials);`,
        `  return $"Basic {Convert.ToBase64String(credentialsByteData)}";`,
        `}`,
        ``,
        `using var http = new HttpClient();`,
        `var request = new HttpRequestMessage(HttpMethod.Post, ${q(token)});`,
        `request.Headers.TryAddWithoutValidation("Authorization", GenerateBasicAuthorizationHeaderValue(${q(v.clientId)}, Environment.GetEnvironmentVariable("FERRY_CLIENT_SECRET")!));`,
        `request.Content = new StringContent(`,
        `  ${q(JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: v.redirectUri }))},`,
        `  Encoding.UTF8, "application/json");`,
        `var response = await http.SendAsync(request);`,
        `Console.WriteLine(await response.Content.ReadAsStringAsync());`,
      ].join('\n'),
    },
    {
      id: 'java',
      language: 'Java',
      code: [
        `import java.net.URI;`,
        `import java.net.http.*;`,
        `import java.nio.charset.StandardCharsets;`,
        `import java.util.Base64;`,
        ``,
        `String credentials = ${q(v.clientId + ':')} + System.getenv("FERRY_CLIENT_SECRET");`,
        `String basic = "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.ISO_8859_1));`,
        `HttpRequest request = HttpRequest.newBuilder(URI.create(${q(token)}))`,
        `    .header("Authorization", basic)`,
        `    .header("Content-Type", "application/json")`,
        `    .POST(HttpRequest.BodyPublishers.ofString(${q(JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: v.redirectUri }))}))`,
        `    .build();`,
        `HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());`,
        `System.out.println(response.body());`,
      ].join('\n'),
    },
  ];
}

/** Reading the accounts with the access token. */
export function accountsExample(publicUrl: string): string {
  return `curl ${publicUrl}/v1/accounts -H "Authorization: Bearer $ACCESS_TOKEN"`;
}
