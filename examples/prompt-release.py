import json

# The release record of the package, as JSON.
RELEASE = json.loads('''
