// ?key-url=… and ?keys-url=… preconfigure the verifier (the page never trusts a URL it was
// not given).
const params = new URLSearchParams(location.search);
const verifier = document.getElementById('verifier');
for (const name of ['key-url', 'keys-url']) {
  const value = params.get(name);
  if (value) verifier.setAttribute(name, value);
}
