"""Experiment only (bench/experiment.py puts this directory first on PYTHONPATH).

Rasa 3.6 `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` after every custom
action. `jsonschema.validate` first checks the (large) events schema against the meta-schema, on every call:
about half of the Rasa process's CPU on an action turn (py-spy). This builds the validator once and only
validates the action server's response with it; error messages stay the same. No-op outside Rasa.
"""
try:
    from jsonschema import ValidationError, validators
    from rasa.core.actions import action as _action
except ImportError:  # backend / action server environment
    pass
else:
    _cache: dict = {}

    def _validate_action_result(self, result):
        v = _cache.get("v")
        if v is None:
            schema = self.action_response_format_spec()
            cls = validators.validator_for(schema)
            cls.check_schema(schema)  # once per process
            v = _cache["v"] = cls(schema)
        try:
            v.validate(result)
            return True
        except ValidationError as e:
            e.message += (". Failed to validate Action server response from API, make sure your response from the "
                          "Action endpoint is valid.")
            raise e

    _action.RemoteAction._validate_action_result = _validate_action_result
