"""The three presets of SPEC.md as data. Names are invented; the rules are the seeds'."""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed demo login

PRESETS: list[dict[str, Any]] = [
    {
        "vendor": {
            "slug": "enterprise",
            "name": "Northwind Fax Systems (enterprise software support)",
            "support_email": "support@northwind.example",
            "support_phone": "+18883038098",
            "timezone": "America/New_York",
        },
        "queues": [
            {"name": "Technical Support", "email": "support@northwind.example", "default": True},
            {"name": "Engineering", "email": "engineering@northwind.example"},
        ],
        "staff": [
            {"email": "dana.dse@northwind.example", "name": "Dana Reyes", "roles": ["engineer"],
             "phone": "+16175550101", "queues": ["Technical Support"]},
            {"email": "omar.dse@northwind.example", "name": "Omar Haddad", "roles": ["engineer"],
             "phone": "+16175550102", "queues": ["Technical Support"]},
            {"email": "lee.dev@northwind.example", "name": "Lee Park", "roles": ["engineer"],
             "phone": "+16175550103", "queues": ["Engineering"]},
            {"email": "agent@northwind.example", "name": "Sam Ortiz", "roles": ["agent", "admin"],
             "phone": "+16175550104", "queues": ["Technical Support"], "lead": "Technical Support"},
            {"email": "billing@northwind.example", "name": "Pat Kim", "roles": ["billing"],
             "phone": "+16175550105", "queues": []},
        ],
        "products": [{"name": "FaxRoute Server", "versions": [("9.5", False), ("10.0", False), ("10.1", True)]}],
        "customers": [
            {"name": "Acme Insurance", "domains": ["acme-insurance.example"], "contacts": [
                {"name": "Alice Morgan", "email": "alice@acme-insurance.example", "phones": ["+12125550111"],
                 "role": "administrator", "portal": True},
                {"name": "Bob Stone", "email": "bob@acme-insurance.example", "phones": ["+12125550112"],
                 "faxes": ["+12125550119"]},
            ]},
            {"name": "Globex Legal", "domains": ["globex-legal.example"], "contacts": [
                {"name": "Carol White", "email": "carol@globex-legal.example", "phones": ["+13125550121"],
                 "role": "administrator", "portal": True},
            ]},
            # Signed 40 days ago: FaxRoute 10.1.1 shipped before 30 days of maintenance (E-7).
            {"name": "Hooli Couriers", "domains": ["hooli-couriers.example"], "contacts": [
                {"name": "Ivy Chen", "email": "ivy@hooli-couriers.example", "phones": ["+14155550131"],
                 "role": "administrator", "portal": True},
            ]},
        ],
        # A fax server mailing received faxes (issue 18, docs/fax.md); intake/demo.py sends Bob's fax
        # through it.
        "fax_gateways": [
            {"name": "Office fax (HylaFAX)", "from_address": "fax@fax.northwind.example",
             "subject_pattern": r"from (\+?[0-9 ]+)", "queue": "Technical Support"},
        ],
        "tickets": [
            {"customer": "Acme Insurance", "contact": "alice@acme-insurance.example", "channel": "phone",
             "priority": "P1", "subject": "Fax server down: no outbound faxes since 07:40",
             "body": "All outbound faxes queue and never send. Screenshot of the queue attached.",
             "product": "FaxRoute Server", "version": "10.1",
             "reply": "Dana here, your Dedicated Support Engineer. Connecting remotely now.",
             "escalate": "Driver crash in the modem pool after the 10.1 update"},
            {"customer": "Acme Insurance", "contact": "bob@acme-insurance.example", "channel": "email",
             "priority": "P3", "subject": "How do I route inbound faxes to a shared mailbox?",
             "body": "We want faxes for the claims team to land in claims@.", "product": "FaxRoute Server",
             "version": "10.0"},
            {"customer": "Globex Legal", "contact": "carol@globex-legal.example", "channel": "portal",
             "priority": "P2", "subject": "Cover page template lost after upgrade",
             "body": "Running 9.5 still; after applying the patch the cover page is blank.",
             "product": "FaxRoute Server", "version": "9.5",
             "note": "9.5 is older than current minus one: check the version window."},
        ],
        # H-1..H-3 (seed 000): the manufacturer's one-year warranty passes through; modems are
        # exchanged in advance, fax boards go back to the factory (14 days, repair billed).
        "hardware": {
            "models": [
                {"manufacturer": "Brooktrout", "name": "TR1034 fax board", "warranty_months": 12,
                 "repair_lead_days": 14, "unit_price": "1450.00"},
                {"manufacturer": "Multi-Tech", "name": "MT5634 fax modem", "warranty_months": 12,
                 "repair_lead_days": 14, "unit_price": "289.00"},
            ],
            "assets": [  # purchased this many days before the demo is loaded
                {"customer": "Acme Insurance", "model": "TR1034 fax board", "serial": "BT1034-0042",
                 "purchased_days_ago": 120, "covered": True, "site": "Hartford data centre"},
                {"customer": "Acme Insurance", "model": "MT5634 fax modem", "serial": "MT5634-7781",
                 "purchased_days_ago": 200, "covered": True, "site": "Hartford data centre"},
                {"customer": "Acme Insurance", "model": "MT5634 fax modem", "serial": "MT5634-7782",
                 "purchased_days_ago": 200, "covered": True, "site": "Hartford data centre"},
                {"customer": "Globex Legal", "model": "TR1034 fax board", "serial": "BT1034-0007",
                 "purchased_days_ago": 900, "site": "Chicago office"},
            ],
            "rmas": [
                # replacement shipped four days ago; the defective modem is due back in six
                {"serial": "MT5634-7781", "kind": "advance_exchange", "days_ago": 4,
                 "contact": "alice@acme-insurance.example",
                 "subject": "Modem on fax line 3 does not answer",
                 "steps": [("ship_replacement", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784",
                                                 "replacement_serial": "MT5634-9120"})]},
                # out of warranty: back to the factory, quote approved, repair invoice unpaid
                {"serial": "BT1034-0007", "kind": "return_to_factory", "days_ago": 11,
                 "contact": "carol@globex-legal.example",
                 "subject": "Fax board drops calls after 30 seconds",
                 "steps": [("receive", {}), ("send_to_manufacturer", {}),
                           ("quote", {"quote_amount": "380.00"}), ("approve", {}),
                           ("mark_repaired", {})]},
            ],
        },
        # Knowledge base (K-2): public, customers-only, contract-only and internal articles.
        "articles": [
            {"title": "Outbound faxes stay in the queue", "category": "Troubleshooting",
             "visibility": "public", "product": "FaxRoute Server", "versions": ["10.0", "10.1"],
             "summary": "Why outbound faxes queue without sending, and how to restart the modem pool.",
             "body": "When outbound faxes queue and never send, the modem pool has usually stopped.\n\n"
                     "1. Open **FaxRoute Admin → Devices**.\n2. Select the modem pool and choose *Restart*.\n"
                     "3. Send a test fax to your own number.\n\nIf the pool stops again within an hour, "
                     "collect the `faxroute-diag` bundle and open a ticket."},
            {"title": "Route inbound faxes to a shared mailbox", "category": "How-to",
             "visibility": "public", "product": "FaxRoute Server", "versions": ["10.0", "10.1"],
             "summary": "Deliver inbound faxes for one DID to a team mailbox such as claims@.",
             "body": "Inbound routing rules map a DID (the dialled number) to a destination.\n\n"
                     "* In **Routing → Inbound**, add a rule for the DID.\n* Choose *Email* and enter the "
                     "shared mailbox address.\n* Tick *Attach as PDF*.\n\nRules are checked top to bottom."},
            {"title": "Cover page template blank after upgrade", "category": "Known issues",
             "visibility": "customers", "product": "FaxRoute Server", "versions": ["9.5", "10.0"],
             "summary": "Custom cover pages come out blank after a patch; re-import the template.",
             "body": "Patches before 10.1 reset the cover page template folder.\n\nRe-import your template "
                     "from the backup in `C:\\FaxRoute\\Backup\\CoverPages` and restart the service."},
            {"title": "Modem pool driver crash after the 10.1 update", "category": "Known issues",
             "visibility": "entitled", "product": "FaxRoute Server", "versions": ["10.1"],
             "summary": "Hotfix for the modem pool driver crash; customers with active maintenance only.",
             "body": "A race in the 10.1 modem pool driver can crash it under heavy outbound load.\n\n"
                     "Apply hotfix **10.1.1** (Downloads page) and restart the FaxRoute service."},
            {"title": "Remote session checklist for DSEs", "category": "Internal",
             "visibility": "internal", "product": "FaxRoute Server", "versions": [],
             "summary": "What to check in the first ten minutes of a remote session.",
             "body": "* Confirm the version in **Help → About**.\n* Export the diagnostics bundle.\n"
                     "* Check the modem pool state before restarting anything."},
            {"title": "Migrating from FaxRoute 9.5", "category": "How-to", "visibility": "public",
             "product": "FaxRoute Server", "versions": ["9.5"], "status": "review",
             "summary": "Draft, in review: the supported upgrade path from 9.5 to 10.1.",
             "body": "Upgrade 9.5 to 10.0 first, then to 10.1; back up the routing rules before each step."},
        ],
    },
    {
        "vendor": {
            "slug": "msp",
            "name": "Harbor IT Services (MSP helpdesk)",
            "support_email": "helpme@harbor-it.example",
            "support_phone": "+12817684800",
            "emergency_phone": "+12817684800",
            "timezone": "America/Chicago",
        },
        "queues": [{"name": "Helpdesk", "email": "helpme@harbor-it.example", "default": True}],
        "staff": [
            {"email": "ava.architect@harbor-it.example", "name": "Ava Brooks", "roles": ["architect", "engineer"],
             "phone": "+17135550201", "queues": ["Helpdesk"], "lead": "Helpdesk"},
            {"email": "ben.architect@harbor-it.example", "name": "Ben Cole", "roles": ["architect", "engineer"],
             "phone": "+17135550202", "queues": ["Helpdesk"]},
            {"email": "cam.engineer@harbor-it.example", "name": "Cam Diaz", "roles": ["engineer"],
             "phone": "+17135550203", "queues": ["Helpdesk"], "away_days": 7},
            {"email": "desk@harbor-it.example", "name": "Drew Fox", "roles": ["agent"],
             "phone": "+17135550204", "queues": ["Helpdesk"]},
        ],
        "products": [],
        "customers": [
            {"name": "Bayou Dental Group", "domains": ["bayoudental.example"], "contacts": [
                {"name": "Erin Hale", "email": "erin@bayoudental.example", "phones": ["+17135550301"],
                 "emails": ["erin.hale@gmail.com"], "portal": True},
                {"name": "Frank Lutz", "email": "frank@bayoudental.example", "phones": ["+17135550302"]},
            ]},
            {"name": "Gulf Freight LLC", "domains": ["gulffreight.example"], "contacts": [
                {"name": "Gina Moss", "email": "gina@gulffreight.example", "phones": ["+12815550311"],
                 "role": "administrator", "portal": True},
            ]},
        ],
        "tickets": [
            {"customer": "Bayou Dental Group", "contact": "erin@bayoudental.example", "channel": "email",
             "priority": "P3", "subject": "Printer in room 3 shows offline",
             "body": "The front desk printer says offline since this morning. Screenshot attached.",
             "reply": "We can see it dropped off the network; remoting in via RDP now."},
            {"customer": "Gulf Freight LLC", "contact": "gina@gulffreight.example", "channel": "voicemail",
             "priority": "P1", "subject": "Emergency voicemail: dispatch server unreachable",
             "body": "Caller +12815550311 left a voicemail after hours: dispatch server is unreachable, trucks cannot be routed.",
             "caller": "+12815550311"},
            {"customer": "Gulf Freight LLC", "contact": "gina@gulffreight.example", "channel": "phone",
             "priority": "P3", "subject": "Carrier router keeps rebooting",
             "body": "Logged from a call: the ISP-owned router reboots hourly.",
             "caller": "+12815550311",
             "out_of_scope": ("network", "The router belongs to your internet provider; please open a case with them and tell us the case number.")},
        ],
    },
    {
        "vendor": {
            "slug": "phones",
            "name": "Bluebell Phone Systems (per-user subscription)",
            "support_email": "support@bluebell-phones.example",
            "support_phone": "+15035550400",
            "timezone": "America/Los_Angeles",
        },
        "queues": [{"name": "Subscriber Support", "email": "support@bluebell-phones.example", "default": True}],
        "staff": [
            {"email": "tech@bluebell-phones.example", "name": "Hana Ito", "roles": ["engineer", "agent"],
             "phone": "+15035550401", "queues": ["Subscriber Support"], "lead": "Subscriber Support"},
            {"email": "rep@bluebell-phones.example", "name": "Ivan Petrov", "roles": ["agent"],
             "phone": "+15035550402", "queues": ["Subscriber Support"]},
            {"email": "billing@bluebell-phones.example", "name": "Jo Lane", "roles": ["billing"],
             "phone": "+15035550403", "queues": []},
        ],
        "products": [{"name": "Bluebell PBX", "versions": [("7.1.9", False), ("7.1.10", False), ("8.0", True)]}],
        "customers": [
            {"name": "Cedar Veterinary Clinic", "domains": ["cedarvet.example"], "contacts": [
                {"name": "Kim Nguyen", "email": "kim@cedarvet.example", "phones": ["+15035550501"],
                 "role": "administrator", "portal": True},
            ]},
            {"name": "Pine Street Realty", "domains": ["pinerealty.example"], "contacts": [
                {"name": "Liam Young", "email": "liam@pinerealty.example", "phones": ["+15035550511"],
                 "role": "administrator", "portal": True},
            ]},
        ],
        "tickets": [
            {"customer": "Cedar Veterinary Clinic", "contact": "kim@cedarvet.example", "channel": "phone",
             "priority": "P2", "subject": "Softphone app will not register for two users",
             "body": "Two technicians cannot log in to the mobile app since yesterday.",
             "product": "Bluebell PBX", "version": "8.0", "caller": "+15035550501",
             "reply": "Their app licences were not assigned; fixed, please retry."},
            {"customer": "Pine Street Realty", "contact": "liam@pinerealty.example", "channel": "portal",
             "priority": "P4", "subject": "Add two extensions for new agents",
             "body": "We hired two agents starting Monday and need extensions 214 and 215.",
             "product": "Bluebell PBX", "version": "8.0"},
        ],
    },
]  # fmt: skip
