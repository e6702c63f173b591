# A minimal "bot" in Python: accepts Graph notifications and prints them.
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Bot(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for n in body["value"]:
            print(n["changeType"], n["resourceUrl"], json.dumps(n.get("resourceData")), flush=True)
        self.send_response(202); self.end_headers()
    def log_message(self, *args): pass

HTTPServer(("127.0.0.1", 4020), Bot).serve_forever()
