// ?key-url=…, ?keys-url=… and ?witness-policy=… preconfigure the verifier (the page never trusts a URL it was
// not given).
const params = new URLSearchParams(location.search);
const verifier = document.getElementById('verifier');
for (const name of ['key-url', 'keys-url', 'witness-policy']) {
  const value = params.get(name);
  if (value) verifier.setAttribute(name, value);
}
