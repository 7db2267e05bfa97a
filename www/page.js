// ?key-url=…, ?keys-url=…, ?witness-policy=…, ?index-log=… and ?min-age=… preconfigure the verifier (the
// page never trusts a URL it was not given).
const params = new URLSearchParams(location.search);
const verifier = document.getElementById('verifier');
for (const name of ['key-url', 'keys-url', 'witness-policy', 'index-log', 'min-age']) {
  const value = params.get(name);
  if (value) verifier.setAttribute(name, value);
}
