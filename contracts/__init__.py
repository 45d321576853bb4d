"""Contracts both Python environments share: the backend and the action server (.venv, Python 3.11) and Rasa
with our channels (.venv-rasa, Python 3.10), with PYTHONPATH at the repository root.

Each module is written once here and imported by every side that needs it:
- `vocabulary`: states, kinds, roles, their Chinese labels and the platform's choice lists;
- `spec_terms`: the school platform's names from the process document (NLU routing, advice texts);
- `forms`: the intents that interrupt a form (the forms' not_intent, the router, the validation actions);
- `nlg`: Rasa's response selection and {variable} filling (the backend's NLG endpoint, Rasa's generator);
- `tokens`: minting and verifying the HS256 bearer tokens (web tokens and short-lived action tokens);
- `masking`: personal numbers and e-mail addresses masked in text staff read;
- `logs`: credentials masked in every log record of every process;
- `production`: the start-up checks of every process with APP_ENV=production;
- `demo`: the demo defaults (secrets and addresses) every process falls back to outside production;
- `env`: reading numbers and switches from the environment (for the settings of each side).

Rule: the standard library only (plus PyJWT in `tokens`, which both environments have; `production` imports
PyYAML inside one function, for Rasa's credentials file); nothing from backend/, bot/, actions/ or any other
package of the repository. tests/contracts/test_contracts_imports.py checks it on both Pythons.
"""
