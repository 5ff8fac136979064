import Constants from 'expo-constants';
import { StatusBar } from 'expo-status-bar';
import { useEffect, useState } from 'react';

import { AppRoot } from './src/AppRoot';
import { ErrorState, Loading } from './src/components/StateView';
import { loadConfig } from './src/config';
import { devicePlatform } from './src/devicePlatform';
import { expoPushProvider } from './src/push/expoPushProvider';
import { type Services, createServices } from './src/services';

const config = loadConfig(
  Constants.expoConfig?.extra as { apiUrl?: unknown } | undefined,
  process.env.EXPO_PUBLIC_API_URL,
);

export default function App() {
  const [services, setServices] = useState<Services | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    createServices(config, devicePlatform()).then(setServices, (e: unknown) =>
      setError(e instanceof Error ? e.message : String(e)),
    );
  }, []);

  if (error) return <ErrorState message={error} />;
  if (!services) return <Loading label="Starting…" />;
  return (
    <>
      <StatusBar style="dark" />
      <AppRoot services={services} push={expoPushProvider} />
    </>
  );
}
