"""The kinds of resource the handler makes, peers on one request frame: each a package with the
same entry points (create_or_update, resume, delete) and its properties parser beside them.
No kind imports another; the dispatcher above them routes each request to one."""
