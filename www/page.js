// ?key-url=… preconfigures the verifier (the page never trusts a key URL it was not given).
const keyUrl = new URLSearchParams(location.search).get('key-url');
if (keyUrl) document.getElementById('verifier').setAttribute('key-url', keyUrl);
