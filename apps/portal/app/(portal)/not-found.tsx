import { NotFoundPanel } from "@/components/failure";

// A record a detail page could not find (notFound()), shown inside the portal.
export default function PortalNotFound() {
  return <NotFoundPanel />;
}
