"""What the runner and the scenarios share: the run's settings and data, the processes it starts (servers,
workers), the load generator and HTTP client, and what the kernel says about CPU and memory."""
