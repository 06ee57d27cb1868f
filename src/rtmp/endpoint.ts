/** Where an RTMP publish goes, without its stream name (the key). */
export interface RtmpEndpoint {
  protocol: 'rtmp' | 'rtmps';
  host: string;
  /** 0 until known (the embedded server picks its port when it starts). */
  port: number;
  /** Everything between host and key, e.g. "live2" or "app/instance". */
  app: string;
}

/** The ingest URL without the key (an IPv6 address in brackets): the tcUrl of `connect`. */
export function endpointUrl(e: RtmpEndpoint): string {
  return `${e.protocol}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}/${e.app}`;
}
