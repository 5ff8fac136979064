"use client";
// The session's audio. A browser can only seek in audio served with byte ranges, and click-to-seek
// needs seeking: so the link is probed with a one-byte Range request first. 206 = play it from the
// link; 200 = the server sent the whole file, which then plays from a (always seekable) blob.
import { useEffect, useRef, useState, type RefObject } from "react";
import { Loading } from "../StatusMessage";

async function playableSource(url: string): Promise<{ src: string; blob: boolean }> {
  try {
    const response = await fetch(url, { headers: { Range: "bytes=0-0" } });
    if (response.status === 206 || !response.ok) {
      await response.body?.cancel();
      return { src: url, blob: false };
    }
    return { src: URL.createObjectURL(await response.blob()), blob: true };
  } catch {
    return { src: url, blob: false }; // e.g. another origin without CORS: the <audio> element still plays it
  }
}

interface Props {
  src: string;
  audioRef: RefObject<HTMLAudioElement | null>;
  startAtS: number | null;
  /** The playing position, smooth enough (every animation frame while playing) to follow words. */
  onTime: (timeS: number) => void;
}

export function AudioPlayer({ src, audioRef, startAtS, onTime }: Props) {
  const [source, setSource] = useState<{ for: string; src: string; blob: boolean } | null>(null);
  const started = useRef(false);
  const onTimeRef = useRef(onTime);

  useEffect(() => {
    onTimeRef.current = onTime;
  });

  useEffect(() => {
    const audio = audioRef.current;
    if (!audio) return;
    let frame = 0;
    const tick = () => {
      onTimeRef.current(audio.currentTime);
      if (!audio.paused) frame = requestAnimationFrame(tick);
    };
    const onChange = () => {
      cancelAnimationFrame(frame);
      tick();
    };
    const events = ["play", "pause", "seeked", "timeupdate", "loadedmetadata"] as const;
    events.forEach((e) => audio.addEventListener(e, onChange));
    return () => {
      cancelAnimationFrame(frame);
      events.forEach((e) => audio.removeEventListener(e, onChange));
    };
  }, [audioRef, source]);

  useEffect(() => {
    let live = true;
    let created: string | null = null;
    void playableSource(src).then((found) => {
      if (found.blob) created = found.src;
      if (live) setSource({ for: src, ...found });
      else if (created) URL.revokeObjectURL(created);
    });
    return () => {
      live = false;
      if (created) URL.revokeObjectURL(created);
    };
  }, [src]);

  const onLoadedMetadata = () => {
    const audio = audioRef.current;
    if (audio && startAtS !== null && !started.current) audio.currentTime = startAtS;
    started.current = true;
  };

  if (!source || source.for !== src) return <Loading label="Loading the audio…" />;
  return <audio ref={audioRef} src={source.src} controls preload="metadata" className="w-full" aria-label="Session audio" onLoadedMetadata={onLoadedMetadata} />;
}
